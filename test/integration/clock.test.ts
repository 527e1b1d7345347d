// The partitions' clock is the broker's (docs/ledger-rules.md, The log clock):
// after start the transaction topic appends with LogAppendTime, every
// partition's log holds a clock marker its owner published, and a decision
// made after it is stamped with its record's append time.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { parseMessage, partitionOf } from '../../common/message.js';
import { appendsWithLogAppendTime } from '../../consumer/clock-switch.js';
import { uniq } from '../helpers/http.js';
import { closeLedger, ledger } from '../helpers/ledger.js';
import { config, readStack, waitFor } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

const kafka = new Kafka({ clientId: 'teller-clock-test', brokers: readStack().kafkaBrokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
t.teardown(async () => {
  await admin.disconnect();
  await closeLedger();
});

type Seen = (partition: number, offset: string, value: Buffer | null, timestamp: string) => void;

/**
 * Reads the transaction topic with a throwaway group, from the start or from
 * `from`, until `done` says so; `seen` is called with each record.
 */
async function scan(seen: Seen, done: () => boolean, what: string, from?: { partition: number; offset: number }): Promise<void> {
  const groupId = uniq('teller-test-clock');
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: config.topic, fromBeginning: from === undefined });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) seen(batch.partition, m.offset, m.value, m.timestamp);
      },
    });
    if (from) consumer.seek({ topic: config.topic, partition: from.partition, offset: String(from.offset) });
    await waitFor(async () => done(), { what, timeoutMs: 60_000, intervalMs: 200 });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

t.test('the transaction topic appends with LogAppendTime', async (t) => {
  t.equal(await appendsWithLogAppendTime(admin, config.topic), true, `${config.topic}: message.timestamp.type=LogAppendTime`);
});

t.test("every partition's log holds a clock marker", async (t) => {
  const partitions = (await admin.fetchTopicMetadata({ topics: [config.topic] })).topics[0]!.partitions.length;
  const marked = new Set<number>();
  await scan(
    (partition, _offset, value) => {
      const parsed = parseMessage(value);
      if (parsed.ok && parsed.msg.type === 'clock') marked.add(partition);
    },
    () => marked.size === partitions,
    `a clock marker in each of ${partitions} partitions`,
  );
  t.equal(marked.size, partitions);
});

t.test("a deposit is decided at its record's append time", async (t) => {
  const a = uniq('clock');
  const r = await v1.deposit(a, { id: `${a}-d`, amount: 5 });
  t.equal(r.status, 200);
  const decidedAt = Date.parse(r.body.decidedAt as string);
  const c = await ledger();
  const doc = await waitFor(() => c.findOne({ accountId: a, id: `${a}-d` }), { what: 'the deposit document', timeoutMs: 20_000 });
  const partition = partitionOf(a, (await admin.fetchTopicMetadata({ topics: [config.topic] })).topics[0]!.partitions.length);
  t.equal(doc.partition, partition);
  let timestamp: number | undefined;
  await scan(
    (p, offset, _value, ts) => {
      if (p === partition && Number(offset) === doc.offset) timestamp = Number(ts);
    },
    () => timestamp !== undefined,
    `the record at ${partition}:${doc.offset}`,
    { partition, offset: doc.offset },
  );
  // One local broker, whose clock goes forward: the newest record's time is the partition's clock.
  t.equal(decidedAt, timestamp, "decidedAt is the broker's append time of the deposit's record");
});

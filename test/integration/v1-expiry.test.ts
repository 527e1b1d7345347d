// Holds lapse at their time to live, judged by the partition's log clock: when
// a later message of the partition moves the clock past the hold's expiry, and
// in a partition nobody writes to, when the owner's periodic tick does.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { partitionOf, parseMessage } from '../../common/message.js';
import type { LogMessage } from '../../common/types.js';
import { uniq } from '../helpers/http.js';
import { closeLedger, ledger } from '../helpers/ledger.js';
import { config, readStack, topicPartitions, waitFor } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

const kafka = new Kafka({ clientId: 'teller-expiry-test', brokers: readStack().kafkaBrokers, logLevel: logLevel.NOTHING });
t.teardown(closeLedger);


/** A fresh account id whose partition satisfies `want`. */
function accountIn(prefix: string, count: number, want: (p: number) => boolean): string {
  for (;;) {
    const a = uniq(prefix);
    if (want(partitionOf(a, count))) return a;
  }
}

/** The message at `offset` of `partition`, read with a throwaway consumer group. */
async function messageAt(partition: number, offset: number): Promise<LogMessage> {
  const groupId = uniq('teller-test-read');
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: config.topic, fromBeginning: false });
    let found!: (v: Buffer | null) => void;
    const value = new Promise<Buffer | null>((r) => (found = r));
    await consumer.run({
      eachMessage: async ({ partition: p, message }) => {
        if (p === partition && message.offset === String(offset)) found(message.value);
      },
    });
    consumer.seek({ topic: config.topic, partition, offset: String(offset) });
    const parsed = parseMessage(await Promise.race([value, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('record not read')), 30_000))]));
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.msg;
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

const count = await topicPartitions();
const busy = partitionOf(uniq('x'), count);

t.test('a later message of the partition lapses a hold past its time to live', async (t) => {
  const a = accountIn('lapse', count, (p) => p === busy);
  const b = accountIn('lapse-neighbour', count, (p) => p === busy);
  const r1 = `${a}-r1`;
  t.equal((await v1.deposit(a, { id: `${a}-d`, amount: 100 })).status, 200);
  const held = await v1.request(a, { id: r1, amount: 60, expiresInSeconds: 1 });
  t.equal(held.status, 201);
  t.match((await v1.account(a)).body, { balance: 100, reserved: 60, available: 40 });

  await new Promise((r) => setTimeout(r, 1200));
  // Another account of the same partition: its message carries the clock past the expiry.
  const nudge = await v1.deposit(b, { id: `${b}-d`, amount: 1 });
  t.equal(nudge.status, 200);
  t.match((await v1.account(a)).body, { balance: 100, reserved: 0, available: 100 }, 'the hold is released, read-your-writes');

  const status = await v1.transaction(r1);
  t.match(status.body, { id: r1, status: 'expired', amount: 60 }, 'the request reads expired');
  const again = await v1.request(a, { id: r1, amount: 60, expiresInSeconds: 1 });
  t.equal(again.status, 402, 'a repeat of the request answers what became of it');
  t.match(again.body, { status: 'expired', replayed: true });

  const cancel = await v1.cancel(a, r1, { id: `${a}-c` });
  t.equal(cancel.status, 404, 'an expired request cannot be cancelled');
  const settle = await v1.withdraw(a, { id: `${a}-w`, amount: 60, requestId: r1 });
  t.equal(settle.status, 200, 'a withdrawal naming it still posts');
  t.match(settle.body, { reason: 'request_not_held', balance: 40, reserved: 0 });

  const statement = await waitFor(
    async () => {
      const s = await v1.statement(a);
      return s.body?.data?.length === 5 ? s.body.data : undefined;
    },
    { what: 'five statement entries', timeoutMs: 20_000 },
  );
  t.same(
    statement.map((e: { id: string; type: string; amount?: number }) => [e.id, e.type, e.amount]),
    [
      [`${a}-w`, 'withdraw', 60],
      [`${a}-c`, 'cancel', undefined],
      [`${r1}~expired`, 'expire', 60],
      [r1, 'withdraw_request', 60],
      [`${a}-d`, 'deposit', 100],
    ],
    'the lapse is in the statement, in log order',
  );
  const c = await ledger();
  const expire = await c.findOne({ accountId: a, id: `${r1}~expired` });
  const nudgeDoc = await c.findOne({ accountId: b, id: `${b}-d` });
  t.ok(expire && nudgeDoc && expire.offset <= nudgeDoc.offset, 'lapsed by the log, no later than the message that carried the clock past it');
});

t.test("a quiet partition's hold lapses at the owner's next tick", async (t) => {
  const a = accountIn('quiet', count, (p) => p !== busy);
  const partition = partitionOf(a, count);
  const r1 = `${a}-r1`;
  t.equal((await v1.deposit(a, { id: `${a}-d`, amount: 100 })).status, 200);
  t.equal((await v1.request(a, { id: r1, amount: 50, expiresInSeconds: 1 })).status, 201);
  const started = Date.now();
  // Nothing else is sent to this partition: only a tick can move its clock.
  await waitFor(async () => (await v1.transaction(r1)).body?.status === 'expired', {
    what: `${r1} expired by a tick`,
    timeoutMs: config.tickIntervalMs + 30_000,
    intervalMs: 500,
  });
  t.pass(`expired after ${Math.round((Date.now() - started) / 1000)} s (ticks every ${config.tickIntervalMs / 1000} s)`);
  t.match((await v1.account(a)).body, { balance: 100, reserved: 0 });

  const c = await ledger();
  const expire = await waitFor(() => c.findOne({ accountId: a, id: `${r1}~expired` }), { what: 'the expire document', timeoutMs: 20_000 });
  t.equal(expire.partition, partition);
  const message = await messageAt(partition, expire.offset);
  t.equal(message.type, 'tick', `the message at offset ${expire.offset} of partition ${partition} is a tick`);
  t.ok(message.receivedAt >= started, 'published after the hold expired');
});

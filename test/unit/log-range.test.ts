// Reading stretches of the log (consumer/log-range.ts) without Kafka: what a
// read hands on (each offset of each range once, in order), how it fails (a
// record gone, a deadline, the taker's own error), and how it drives kafkajs
// (a throwaway group, seeks once `run` has joined, nothing committed, the
// group deleted after, whatever happened).
import t from 'tap';
import type { Kafka } from 'kafkajs';
import type { RawRecord } from '../../consumer/batch-decision.js';
import { LogGap, LogRangeReader, LogReadTimeout, RangeReading } from '../../consumer/log-range.js';
import { waitFor } from '../../scripts/shared/wait.js';

const records = (from: number, to: number): RawRecord[] =>
  Array.from({ length: to - from }, (_, i) => ({ offset: String(from + i), key: null, value: Buffer.from(`m${from + i}`) }));

function collector() {
  const taken = new Map<number, number[]>();
  const take = async (partition: number, batch: RawRecord[]) => {
    taken.set(partition, [...(taken.get(partition) ?? []), ...batch.map((r) => Number(r.offset))]);
  };
  return { taken, take };
}

t.test('each offset of each range once, in order, whatever the batches hold', async (t) => {
  const { taken, take } = collector();
  const reading = new RangeReading(
    [
      { partition: 0, from: 3, to: 7 },
      { partition: 1, from: 0, to: 2 },
      { partition: 2, from: 5, to: 5 },
    ],
    take,
  );
  let done = false;
  void reading.done.then(() => (done = true));
  await reading.batch(0, records(1, 5));
  await reading.batch(0, records(4, 6));
  await reading.batch(3, records(0, 9));
  await reading.batch(1, records(0, 4));
  t.notOk(done, 'partition 0 is not read to its end yet');
  await reading.batch(0, records(6, 12));
  await reading.done;
  t.same(Object.fromEntries(taken), { 0: [3, 4, 5, 6], 1: [0, 1] }, 'nothing before, twice or after a range, nor of a partition not asked for');
});

t.test('a record past the one expected means those between are gone', async (t) => {
  const { take } = collector();
  const reading = new RangeReading([{ partition: 0, from: 3, to: 10 }], take);
  await reading.batch(0, records(3, 5));
  await reading.batch(0, records(7, 9));
  await t.rejects(reading.done, new LogGap(0, 5));
  const past = new RangeReading([{ partition: 1, from: 3, to: 10 }], take);
  await past.batch(1, records(12, 13));
  await t.rejects(past.done, new LogGap(1, 3), 'even past the range: the log moved on without it');
});

t.test("the taker's failure ends the read", async (t) => {
  const reading = new RangeReading([{ partition: 0, from: 0, to: 10 }], async () => {
    throw new Error('the replay failed');
  });
  await reading.batch(0, records(0, 3));
  await t.rejects(reading.done, /the replay failed/);
});

/** kafkajs's consumer and admin, as far as the reader drives them; batches are delivered by the test. */
function fakeKafka() {
  const calls: string[] = [];
  let eachBatch: ((payload: { batch: { partition: number; messages: RawRecord[] } }) => Promise<void>) | undefined;
  const consumer = {
    events: { CRASH: 'consumer.crash' },
    on: () => undefined,
    connect: async () => void calls.push('connect'),
    subscribe: async (s: { fromBeginning: boolean }) => void calls.push(`subscribe fromBeginning=${s.fromBeginning}`),
    run: async (r: { autoCommit: boolean; eachBatch: typeof eachBatch }) => {
      calls.push(`run autoCommit=${r.autoCommit}`);
      eachBatch = r.eachBatch;
    },
    seek: (s: { partition: number; offset: string }) => void calls.push(`seek ${s.partition} ${s.offset}`),
    disconnect: async () => void calls.push('disconnect'),
  };
  const groups: string[] = [];
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    deleteGroups: async (ids: string[]) => void calls.push(`delete ${ids.join()}`),
    fetchTopicOffsets: async () => [{ partition: 0, offset: '9', high: '9', low: '2' }],
  };
  const kafka = {
    consumer: ({ groupId }: { groupId: string }) => {
      groups.push(groupId);
      return consumer;
    },
    admin: () => admin,
  };
  const deliver = (partition: number, messages: RawRecord[]) => eachBatch!({ batch: { partition, messages } });
  return { kafka: kafka as unknown as Kafka, calls, groups, deliver };
}

t.test('a read joins a group of its own, seeks once running, commits nothing, and deletes the group', async (t) => {
  const fake = fakeKafka();
  const reader = new LogRangeReader(fake.kafka, 'teller.tx', 'teller-replay');
  t.same(await reader.bounds(), new Map([[0, { first: 2, end: 9 }]]));
  const { taken, take } = collector();
  const read = reader.read([{ partition: 0, from: 4, to: 6 }], take);
  await new Promise((resolve) => setImmediate(resolve));
  await fake.deliver(0, records(4, 9));
  await read;
  t.same(taken.get(0), [4, 5]);
  t.match(fake.groups, [/^teller-replay-[0-9a-f-]{36}$/]);
  t.same(fake.calls, ['connect', 'subscribe fromBeginning=false', 'run autoCommit=false', 'seek 0 4', 'disconnect', `delete ${fake.groups[0]}`]);
});

t.test('past the deadline the read fails, and the group is deleted all the same', async (t) => {
  const fake = fakeKafka();
  const reader = new LogRangeReader(fake.kafka, 'teller.tx', 'teller-replay');
  await t.rejects(reader.read([{ partition: 0, from: 4, to: 6 }], collector().take, Date.now() + 50), LogReadTimeout);
  // Not waited for by the caller: the consumer may still be inside a batch.
  await waitFor(() => fake.calls.includes(`delete ${fake.groups[0]}`), { what: 'the group deleted', timeoutMs: 2000, intervalMs: 5 });
  t.same(fake.calls.slice(-2), ['disconnect', `delete ${fake.groups[0]}`]);
  const nothing = fakeKafka();
  await new LogRangeReader(nothing.kafka, 'teller.tx', 'teller-replay').read([{ partition: 0, from: 4, to: 4 }], collector().take);
  t.same(nothing.calls, [], 'an empty range reads nothing');
});

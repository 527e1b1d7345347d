// The batching producer (producer/batcher.ts). Its bound: at PRODUCER_QUEUE_MAX
// a message is refused at once, unsent, as TELLER_ERR_PRODUCER_UNAVAILABLE
// (503 with Retry-After in api/problem.ts), and the refusals are counted by
// reason for the metrics. Its re-sends: what Kafka did not confirm of a batch is
// sent again within PRODUCER_SEND_TIMEOUT_MS, as while a partition's leader
// moves, and only a batch that fails for good refuses the next calls. Its
// time: PRODUCER_SEND_TIMEOUT_MS counts from when a call is taken, so a call
// queued behind held sends is answered within it, refused unsent when it ran
// out while queued.
import type { RecordMetadata } from 'kafkajs';
import { pino } from 'pino';
import t from 'tap';
import { createError, hasCode, TELLER_ERR_PRODUCER_UNAVAILABLE, TELLER_ERR_PRODUCER_UNCONFIRMED } from '../../common/errors.js';
import type { TxMessage } from '../../common/types.js';
import { Batcher } from '../../producer/batcher.js';
import { confirmedAnswer } from '../helpers/kafka-answers.js';

const deposit = (id: string): TxMessage => ({ v: 1, id, type: 'deposit', accountId: 'a', amount: 1, receivedAt: 0 });

t.test('a full queue refuses the next message unsent, and counts it', async (t) => {
  const confirms: (() => void)[] = [];
  const sentBatches: number[] = [];
  // Kafka that holds every send until the test confirms it.
  const producer = {
    send: async (record: { topic: string; messages: { partition?: number }[] }) => {
      sentBatches.push(record.messages.length);
      await new Promise<void>((resolve) => confirms.push(resolve));
      return confirmedAnswer(record);
    },
  };
  const batcher = new Batcher(producer as never, { topic: 't', lingerMs: 0, batchMax: 2, queueMax: 3, sendTimeoutMs: 600_000, maxConcurrentSends: 1 }, pino({ level: 'silent' }));
  // One batch of two goes out and is held; three more wait in the queue, its limit.
  const taken = ['m1', 'm2', 'm3', 'm4', 'm5'].map((id) => batcher.send(deposit(id), 'a', 0));
  await new Promise((resolve) => setTimeout(resolve, 0));
  t.same(sentBatches, [2], 'one batch in flight');
  t.equal(batcher.queued, 3, 'the queue is at its limit');

  const refused = await batcher.send(deposit('m6'), 'a', 0).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.ok(hasCode(refused, TELLER_ERR_PRODUCER_UNAVAILABLE.code), 'refused as unavailable: nothing of it was sent');
  t.match((refused as Error).message, /queue_full/);
  t.equal(batcher.queued, 3, 'the queue did not grow');
  t.same(batcher.stats().refused, { queue_full: 1, kafka_unavailable: 0, stopped: 0, queue_timeout: 0 });

  while (confirms.length > 0 || batcher.queued > 0) {
    confirms.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.all(taken);
  t.same(sentBatches, [2, 2, 1], 'everything taken was sent');
});

type SentRecord = { topic: string; messages: { partition: number; value: unknown }[] };

/** A producer that answers its sends with `answers` in turn (the last one from then on), recording what each named. */
function scriptedProducer(answers: ((record: SentRecord) => Promise<RecordMetadata[]>)[]) {
  const sent: SentRecord[] = [];
  const producer = {
    send: async (record: SentRecord) => {
      sent.push(record);
      return answers[Math.min(sent.length, answers.length) - 1]!(record);
    },
  };
  return { producer, sent, partitionsOf: (i: number) => sent[i]?.messages.map((m) => m.partition) };
}

const quiet = pino({ level: 'silent' });
const options = { topic: 't', lingerMs: 0, batchMax: 10, queueMax: 100, sendTimeoutMs: 400, resendPauseMs: 10, maxConcurrentSends: 1 };
const settled = <T>(promise: Promise<T>) => promise.then(() => 'resolved' as const, (err: unknown) => err as Error);
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

t.test("a send whose answer leaves out a partition: the others' callers are answered at once, its messages are sent again", async (t) => {
  let releaseResend: () => void = () => undefined;
  const { producer, sent, partitionsOf } = scriptedProducer([
    // A leader of partition 2 lost: kafkajs answered for the partitions of the brokers still up.
    async (record) => confirmedAnswer(record).filter((m) => m.partition !== 2),
    async (record) => {
      await new Promise<void>((resolve) => (releaseResend = resolve));
      return confirmedAnswer(record);
    },
    async (record) => confirmedAnswer(record),
  ]);
  const batcher = new Batcher(producer as never, options, quiet);
  const outcomes: Record<string, 'resolved' | Error> = {};
  const calls = ([['m0', 0], ['m1', 1], ['m2', 2], ['m3', 2]] as const).map(([id, partition]) =>
    settled(batcher.send(deposit(id), 'a', partition)).then((outcome) => (outcomes[id] = outcome)),
  );
  for (let turn = 0; turn < 100 && sent.length < 2; turn++) await new Promise((resolve) => setTimeout(resolve, 5));
  await nextTurn();
  t.same(partitionsOf(0), [0, 1, 2, 2], 'the batch went out whole');
  t.same(partitionsOf(1), [2, 2], "only partition 2's messages went again");
  t.same(outcomes, { m0: 'resolved', m1: 'resolved' }, 'the callers on confirmed partitions are answered before the re-send is');
  t.same(batcher.stats().inFlight, 1, 'the batch is one send in flight across its attempts');
  releaseResend();
  await Promise.all(calls);
  t.same(outcomes, { m0: 'resolved', m1: 'resolved', m2: 'resolved', m3: 'resolved' });
  t.notOk(batcher.failing, 'a failure the re-send recovered does not refuse new calls');
  t.equal(await settled(batcher.send(deposit('m4'), 'a', 2)), 'resolved', 'the next call is taken and sent');
  t.same(batcher.stats().refused, { queue_full: 0, kafka_unavailable: 0, stopped: 0, queue_timeout: 0 });
});

t.test('a send that fails and then succeeds answers every call and refuses none', async (t) => {
  const { producer, sent } = scriptedProducer([
    async () => {
      throw new Error('This server is not the leader for that topic-partition');
    },
    async (record) => confirmedAnswer(record),
  ]);
  const batcher = new Batcher(producer as never, options, quiet);
  const sizes: number[] = [];
  batcher.onBatch = (size) => sizes.push(size);
  const calls = ['m0', 'm1', 'm2'].map((id, partition) => settled(batcher.send(deposit(id), 'a', partition)));
  await batcher.flush();
  t.same(await Promise.all(calls), ['resolved', 'resolved', 'resolved'], 'flush waits for the re-send');
  t.equal(sent.length, 2, 'sent twice');
  t.same(sent[1]?.messages.map((m) => m.value), sent[0]?.messages.map((m) => m.value), 'the same messages, unchanged: their ids make a repeat harmless');
  t.same(sizes, [3], 'one batch of three confirmed');
  t.notOk(batcher.failing);
  t.equal(await settled(batcher.send(deposit('m3'), 'a', 0)), 'resolved', 'the next call is taken');
  await batcher.flush();
  t.equal(batcher.stats().inFlight, 0);
});

t.test('a send that keeps failing is re-sent until its budget is spent, then its calls are unconfirmed and new calls refused', async (t) => {
  const { producer, sent } = scriptedProducer([
    async () => {
      throw new Error('Connection error: ECONNREFUSED');
    },
  ]);
  const batcher = new Batcher(producer as never, options, quiet);
  const started = Date.now();
  const outcome = await settled(batcher.send(deposit('m0'), 'a', 0));
  t.ok(hasCode(outcome, TELLER_ERR_PRODUCER_UNCONFIRMED.code), 'unconfirmed: a sent message may still be written');
  t.ok(Date.now() - started >= options.sendTimeoutMs - options.resendPauseMs - 5, 'answered once the budget is spent, not at the first failure');
  t.ok(sent.length > 2, `re-sent meanwhile (${sent.length} attempts)`);
  t.ok(batcher.failing, 'now the next calls are refused');
  const refused = await settled(batcher.send(deposit('m1'), 'a', 0));
  t.ok(hasCode(refused, TELLER_ERR_PRODUCER_UNAVAILABLE.code));
  t.match((refused as Error).message, /kafka_unavailable/);
  const attempts = sent.length;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(sent.length, attempts, 'no attempt after the answer');
});

t.test('a send refused for want of a connection is not re-sent: its calls learn at once that nothing was sent', async (t) => {
  const { producer, sent } = scriptedProducer([
    async () => {
      throw createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'no connection to Kafka within 1500 ms' });
    },
  ]);
  const batcher = new Batcher(producer as never, options, quiet);
  const outcome = await settled(batcher.send(deposit('m0'), 'a', 0));
  t.ok(hasCode(outcome, TELLER_ERR_PRODUCER_UNAVAILABLE.code));
  t.equal(sent.length, 1);
  t.ok(batcher.failing);
});

t.test('an attempt answered after the budget was spent settles no caller again and counts nothing', async (t) => {
  let answerLate: () => void = () => undefined;
  const { producer, sent } = scriptedProducer([
    async (record) => confirmedAnswer(record).filter((m) => m.partition !== 1),
    // The re-send hangs past the budget, and is answered afterwards.
    async (record) => {
      await new Promise<void>((resolve) => (answerLate = resolve));
      return confirmedAnswer(record);
    },
  ]);
  const batcher = new Batcher(producer as never, { ...options, sendTimeoutMs: 150 }, quiet);
  const sizes: number[] = [];
  batcher.onBatch = (size) => sizes.push(size);
  const [onZero, onOne] = await Promise.all([settled(batcher.send(deposit('m0'), 'a', 0)), settled(batcher.send(deposit('m1'), 'a', 1))]);
  t.equal(onZero, 'resolved', 'confirmed by the first attempt');
  t.ok(hasCode(onOne, TELLER_ERR_PRODUCER_UNCONFIRMED.code), 'the re-send outlived the budget');
  t.equal(sent.length, 2);
  await batcher.flush();
  t.same(batcher.stats().inFlight, 0, 'the batch ended with its budget');
  answerLate();
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(sizes, [1], 'the late answer is not counted as a confirmed batch');
  t.ok(batcher.failing, 'nor does it lift the refusal');
  t.equal(sent.length, 2, 'nor start another attempt');
});

/** A producer that takes every send and never answers, as Kafka whose partition leader stalled. */
function silentProducer() {
  const sent: SentRecord[] = [];
  const producer = {
    send: (record: SentRecord) => {
      sent.push(record);
      return new Promise<never>(() => undefined);
    },
  };
  return { producer, sent };
}

t.test('a call queued while every slot holds an unconfirmed send is answered within its own send time, not after another', async (t) => {
  const { producer } = silentProducer();
  const sendTimeoutMs = 300;
  const batcher = new Batcher(producer as never, { ...options, batchMax: 1, maxConcurrentSends: 4, sendTimeoutMs }, quiet);
  const taken = Date.now();
  const answeredAfterMs: number[] = [];
  const calls = ['m0', 'm1', 'm2', 'm3', 'm4'].map((id, i) =>
    settled(batcher.send(deposit(id), 'a', i)).then((outcome) => {
      answeredAfterMs[i] = Date.now() - taken;
      return outcome;
    }),
  );
  await nextTurn();
  t.same([batcher.stats().inFlight, batcher.queued], [4, 1], 'four sends hold every slot; the fifth call waits');
  const outcomes = await Promise.all(calls);
  for (const outcome of outcomes) {
    t.ok(hasCode(outcome, TELLER_ERR_PRODUCER_UNCONFIRMED.code) || hasCode(outcome, TELLER_ERR_PRODUCER_UNAVAILABLE.code), 'failed: Kafka confirmed nothing');
  }
  // Before, the fifth call got a whole send time of its own once a slot freed: about 600 ms.
  t.ok(answeredAfterMs[4]! < sendTimeoutMs + 100, `the fifth call answered within its send time of being taken (${answeredAfterMs[4]} ms)`);
});

t.test('a queued call whose time passes before a slot frees for it is refused unsent, and nothing of it reaches Kafka', async (t) => {
  const { producer, sent } = silentProducer();
  const sendTimeoutMs = 60;
  // One slot, and a linger longer than the send's time: once the held send ends, the queued call
  // would go out only at the linger's end, past its deadline.
  const batcher = new Batcher(producer as never, { ...options, lingerMs: 150, batchMax: 1, maxConcurrentSends: 1, sendTimeoutMs }, quiet);
  const first = settled(batcher.send(deposit('m0'), 'a', 0));
  const taken = Date.now();
  const queued = await settled(batcher.send(deposit('m1'), 'a', 1));
  const answeredAfterMs = Date.now() - taken;
  t.ok(hasCode(queued, TELLER_ERR_PRODUCER_UNAVAILABLE.code), 'unavailable: nothing of it was sent, its id may be released');
  t.match((queued as Error).message, /queue_timeout/);
  t.ok(answeredAfterMs < sendTimeoutMs + 50, `answered by its deadline (${answeredAfterMs} ms)`);
  t.ok(hasCode(await first, TELLER_ERR_PRODUCER_UNCONFIRMED.code), 'the held send ended unconfirmed');
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(
    sent.map((record) => record.messages.map((m) => m.partition)),
    [[0]],
    'only the first call was ever sent, even after the linger ended',
  );
  t.equal(batcher.stats().refused.queue_timeout, 1, 'counted for the metrics');
  t.same([batcher.queued, batcher.stats().inFlight], [0, 0]);
});

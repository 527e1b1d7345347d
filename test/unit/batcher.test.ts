// The batching producer's bound (producer/batcher.ts): at PRODUCER_QUEUE_MAX
// a message is refused at once, unsent, as TELLER_ERR_PRODUCER_UNAVAILABLE
// (503 with Retry-After in api/problem.ts), and the refusals are counted by
// reason for the metrics.
import { pino } from 'pino';
import t from 'tap';
import { hasCode, TELLER_ERR_PRODUCER_UNAVAILABLE } from '../../common/errors.js';
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
  t.same(batcher.stats().refused, { queue_full: 1, kafka_unavailable: 0, stopped: 0 });

  while (confirms.length > 0 || batcher.queued > 0) {
    confirms.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.all(taken);
  t.same(sentBatches, [2, 2, 1], 'everything taken was sent');
});

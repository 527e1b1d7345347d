// A batch's attempts within its callers' time (producer/batch-attempts.ts):
// every caller is settled exactly once, whatever answers arrive and when, by
// the earliest of the callers' deadlines, and a message is told `unavailable`
// only when no attempt ever sent it.
import type { RecordMetadata } from 'kafkajs';
import t from 'tap';
import { createError, hasCode, TELLER_ERR_PRODUCER_UNAVAILABLE, TELLER_ERR_PRODUCER_UNCONFIRMED } from '../../common/errors.js';
import { sendWithinBudget, type Waiting } from '../../producer/batch-attempts.js';
import { confirmedAnswer } from '../helpers/kafka-answers.js';

type SentRecord = { topic: string; messages: { partition: number }[] };

/**
 * Callers on `partitions` that count how often each is resolved and rejected,
 * each with `timeMs` from now (one for all, or one each) to be answered.
 */
function callers(partitions: number[], timeMs: number | number[]) {
  const settlements = partitions.map(() => ({ resolved: 0, rejected: [] as Error[] }));
  const now = performance.now();
  const batch: Waiting[] = partitions.map((partition, i) => ({
    message: { key: `k${i}`, value: `m${i}`, partition },
    deadline: now + (typeof timeMs === 'number' ? timeMs : timeMs[i]!),
    resolve: () => settlements[i]!.resolved++,
    reject: (err) => settlements[i]!.rejected.push(err),
  }));
  return { batch, settlements };
}

/** A producer that answers its sends with `answers` in turn (the last one from then on). */
function scripted(answers: ((record: SentRecord) => Promise<RecordMetadata[]>)[]) {
  const sent: SentRecord[] = [];
  const send = async (record: SentRecord) => {
    sent.push(record);
    return answers[Math.min(sent.length, answers.length) - 1]!(record);
  };
  return { producer: { send } as never, sent };
}

t.test('each caller is settled once, though the attempt raced out by the budget is answered later', async (t) => {
  let answerLate: () => void = () => undefined;
  const { producer, sent } = scripted([
    async (record) => confirmedAnswer(record).filter((m) => m.partition !== 1),
    async (record) => {
      await new Promise<void>((resolve) => (answerLate = resolve));
      return confirmedAnswer(record);
    },
  ]);
  const { batch, settlements } = callers([0, 1, 1], 100);
  const end = await sendWithinBudget(producer, batch, { topic: 't', pauseMs: 5 });
  t.same(end.confirmed, 1);
  t.same(end.attempts, 2);
  answerLate();
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(sent.length, 2);
  t.same(settlements[0], { resolved: 1, rejected: [] }, 'confirmed by the first attempt, once');
  for (const settlement of settlements.slice(1)) {
    t.equal(settlement.resolved, 0, 'the late answer resolves nothing');
    t.equal(settlement.rejected.length, 1, 'rejected once, when the budget was spent');
    t.ok(hasCode(settlement.rejected[0], TELLER_ERR_PRODUCER_UNCONFIRMED.code));
  }
});

t.test('refused for want of a connection: unavailable on the first attempt, unconfirmed on a re-send (the first one sent it)', async (t) => {
  const refused = async (): Promise<RecordMetadata[]> => {
    throw createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'no connection to Kafka within 1500 ms' });
  };
  const first = callers([0], 1000);
  const atOnce = await sendWithinBudget(scripted([refused]).producer, first.batch, { topic: 't', pauseMs: 5 });
  t.same([atOnce.attempts, atOnce.unsent], [1, true], 'not re-sent');
  t.ok(hasCode(first.settlements[0]!.rejected[0], TELLER_ERR_PRODUCER_UNAVAILABLE.code));

  const timedOut = async (): Promise<RecordMetadata[]> => {
    throw new Error('Request Produce(key: 0, version: 7) timed out');
  };
  const later = callers([0], 1000);
  const afterSending = await sendWithinBudget(scripted([timedOut, refused]).producer, later.batch, { topic: 't', pauseMs: 5 });
  t.same([afterSending.attempts, afterSending.unsent], [2, false]);
  t.ok(hasCode(later.settlements[0]!.rejected[0], TELLER_ERR_PRODUCER_UNCONFIRMED.code), 'the first attempt may have written it');
});

t.test('no pause runs past the budget: with too little time left for another attempt, the batch ends', async (t) => {
  const { producer, sent } = scripted([
    async () => {
      throw new Error('There is no leader for this topic-partition');
    },
  ]);
  const { batch, settlements } = callers([0], 100);
  const started = Date.now();
  const end = await sendWithinBudget(producer, batch, { topic: 't', pauseMs: 70 });
  // Timers may fire a little late on a busy machine; one more pause would end past 140 ms.
  t.ok(Date.now() - started < 130, 'answered within the budget, not after one more pause');
  t.equal(end.attempts, 2, 'one pause fitted, the second would not');
  t.equal(sent.length, 2);
  t.match(settlements[0]!.rejected[0]!.message, /no leader/, 'the last failure is the reason');
});

t.test("a batch ends at its callers' earliest deadline, however much time the others have", async (t) => {
  let attempts = 0;
  // Kafka that never answers: only the deadline ends the batch.
  const producer = {
    send: () => {
      attempts++;
      return new Promise<never>(() => undefined);
    },
  } as never;
  const { batch, settlements } = callers([0, 1, 2], [1000, 80, 600]);
  const started = Date.now();
  const end = await sendWithinBudget(producer, batch, { topic: 't', pauseMs: 5 });
  const tookMs = Date.now() - started;
  t.ok(tookMs >= 75 && tookMs < 200, `ended at the earliest deadline, 80 ms (${tookMs} ms)`);
  t.same([end.confirmed, end.attempts, end.unsent, attempts], [0, 1, false, 1]);
  for (const settlement of settlements) {
    t.equal(settlement.rejected.length, 1, 'every caller left is answered then');
    t.ok(hasCode(settlement.rejected[0], TELLER_ERR_PRODUCER_UNCONFIRMED.code), 'unconfirmed: the attempt sent it');
  }
});

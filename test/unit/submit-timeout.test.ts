// A withdrawal request whose caller waits carries its answer deadline, and the
// cancel the api publishes after answering 402 timeout is tried again in the
// background when the first publish fails, rather than only logged. The caller
// waits for that publish only until its deadline plus the send's time.
import t from 'tap';
import { pino } from 'pino';
import { TransactionSubmitter, type SubmitDeps } from '../../api/submit.js';
import { createError, TELLER_ERR_PRODUCER_UNAVAILABLE } from '../../common/errors.js';
import type { LogMessage, Outcome, TxMessage } from '../../common/types.js';

const DECISION_TIMEOUT_MS = 20;
const SEND_TIMEOUT_MS = 100;

/**
 * A submitter whose log decides nothing in time; the first `refusedCancels`
 * cancels are refused, after `cancelSendMs` when given (a send Kafka is slow
 * to answer).
 */
function submitter(options: { listening?: boolean; refusedCancels?: number; cancelSendMs?: number } = {}) {
  const sent: TxMessage[] = [];
  let refusedCancels = options.refusedCancels ?? 0;
  const deps: SubmitDeps = {
    batcher: {
      send: async (msg: LogMessage) => {
        if (msg.type === 'tick') return;
        if (msg.type === 'cancel' && refusedCancels > 0) {
          refusedCancels--;
          if (options.cancelSendMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.cancelSendMs));
          throw createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'send_failed' });
        }
        sent.push(msg);
      },
    },
    waiter: {
      listening: options.listening ?? true,
      wait: (_accountId: string, _id: string, timeoutMs: number) => ({
        promise: new Promise<Outcome | undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs)),
        cancel: () => undefined,
      }),
    },
    redis: { set: async () => null } as unknown as SubmitDeps['redis'],
    log: pino({ level: 'silent' }),
    replicaId: 'api-1',
    partitions: () => 4,
    decisionTimeoutMs: DECISION_TIMEOUT_MS,
    sendTimeoutMs: SEND_TIMEOUT_MS,
    idWindowSeconds: 60,
    requestTtlSeconds: 60,
  };
  return { submitter: new TransactionSubmitter(deps), sent };
}

const request = { id: 'r1', type: 'withdraw_request' as const, accountId: 'acc', amount: 10 };

t.test('a waiting withdrawal request carries answerBy: its deadline, or its receipt when nothing is listened for', async (t) => {
  const waiting = submitter();
  const result = await waiting.submitter.submit(request, { wait: true });
  t.equal(result.kind, 'timed_out');
  const [message] = waiting.sent;
  t.equal(message!.answerBy, message!.receivedAt + DECISION_TIMEOUT_MS);

  const deaf = submitter({ listening: false });
  await deaf.submitter.submit(request, { wait: true });
  t.equal(deaf.sent[0]!.answerBy, deaf.sent[0]!.receivedAt, 'answered at once');

  const asynchronous = submitter();
  await asynchronous.submitter.submit(request, { wait: false });
  t.equal(asynchronous.sent[0]!.answerBy, undefined, 'a caller that does not wait has no deadline');
  const deposit = submitter();
  await deposit.submitter.submit({ id: 'd1', type: 'deposit', accountId: 'acc', amount: 10 }, { wait: true });
  t.equal(deposit.sent[0]!.answerBy, undefined, 'nor anything but a withdrawal request');
});

t.test('a cancel the log refused is published again in the background', async (t) => {
  const { submitter: api, sent } = submitter({ refusedCancels: 2 });
  const result = await api.submit(request, { wait: true });
  t.equal(result.kind, 'timed_out', 'the caller is answered without waiting for the cancel');
  t.same(
    sent.map((m) => m.type),
    ['withdraw_request'],
  );
  // Refused twice: tried again after 200 ms, then 400 ms.
  for (let waited = 0; sent.length < 2 && waited < 3000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  t.match(sent, [{ type: 'withdraw_request' }, { type: 'cancel', id: 'r1~timeout', requestId: 'r1', accountId: 'acc' }], 'published once the log took it');
});

t.test("a cancel's publish that outlasts the call's time is left to the background: the caller is answered by its deadline plus the send's time", async (t) => {
  // The cancel's first send is answered, a failure, only well after the call's time.
  const { submitter: api, sent } = submitter({ refusedCancels: 1, cancelSendMs: 600 });
  const taken = Date.now();
  const result = await api.submit(request, { wait: true });
  const answeredAfterMs = Date.now() - taken;
  t.equal(result.kind, 'timed_out');
  t.ok(answeredAfterMs < DECISION_TIMEOUT_MS + SEND_TIMEOUT_MS + 100, `answered without waiting for the slow publish (${answeredAfterMs} ms)`);
  t.ok(answeredAfterMs >= DECISION_TIMEOUT_MS + SEND_TIMEOUT_MS - 10, 'after waiting for it as long as the call had time');
  // The slow send fails at 600 ms, and then the background publishes the cancel again.
  for (let waited = 0; sent.length < 2 && waited < 3000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  t.match(sent, [{ type: 'withdraw_request' }, { type: 'cancel', id: 'r1~timeout' }], 'the cancel reached the log afterwards');
});

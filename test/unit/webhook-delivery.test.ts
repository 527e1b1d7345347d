// Delivering a batch to one endpoint (webhooks/batch-delivery.ts) with an
// injected sender and a fake clock: each account's events in order, accounts
// side by side within the endpoint's bound, retries on the backoff schedule,
// dead letters past the horizon, skips by filter, and a batch reported done
// (its offset may be committed) only when every event is delivered or
// dead-lettered. The backoff's bounds (webhooks/retry-policy.ts) first.
import t from 'tap';
import { EndpointDelivery, type AttemptResult, type GivenUp, type WebhookEvent } from '../../webhooks/batch-delivery.js';
import { Limiter } from '../../webhooks/limiter.js';
import { backoffCeiling, retryDelay, type RetryPolicy } from '../../webhooks/retry-policy.js';

const POLICY: RetryPolicy = { baseMs: 1000, capMs: 4000, horizonMs: 10_000 };

t.test('the backoff: ceilings double from the base up to the cap; a wait is within [0, ceiling)', async (t) => {
  t.same(
    [1, 2, 3, 4, 5, 60, 5000].map((n) => backoffCeiling(n, POLICY)),
    [1000, 2000, 4000, 4000, 4000, 4000, 4000],
  );
  t.same([1, 2, 3, 11].map((n) => backoffCeiling(n, { baseMs: 1000, capMs: 600_000 })), [1000, 2000, 4000, 600_000]);
  for (let failures = 1; failures <= 64; failures++) {
    const ceiling = backoffCeiling(failures, POLICY);
    t.equal(retryDelay(failures, POLICY, () => 0), 0);
    const highest = retryDelay(failures, POLICY, () => 1 - Number.EPSILON);
    t.ok(highest >= 0 && highest < ceiling && highest >= ceiling - 1, `failure ${failures}: ${highest} just under ${ceiling}`);
    const drawn = retryDelay(failures, POLICY);
    t.ok(Number.isInteger(drawn) && drawn >= 0 && drawn < ceiling, `failure ${failures}: ${drawn} drawn within [0, ${ceiling})`);
  }
});

/** A clock whose sleeps pass at once and move its time on. */
class FakeClock {
  time = 0;
  readonly sleeps: number[] = [];
  now = () => this.time;
  sleep = async (ms: number) => {
    this.sleeps.push(ms);
    await Promise.resolve();
    this.time += ms;
  };
}

const event = (accountId: string, n: number, type = 'deposit.applied'): WebhookEvent => {
  const eventId = `0:${accountId}${n}`;
  return { eventId, accountId, type, body: JSON.stringify({ eventId, accountId, type }) };
};

interface Harness {
  delivery: EndpointDelivery;
  clock: FakeClock;
  sent: { eventId: string; at: number }[];
  deadLetters: GivenUp[];
  counts: Record<'delivered' | 'deadLettered' | 'skipped' | 'failed' | 'waiting' | 'storeFailures', number>;
}

/** `answer` decides each attempt (its number for that event, from 1); the default delivers. */
function harness(options: { answer?: (event: WebhookEvent, attempt: number) => Promise<AttemptResult> | AttemptResult; limit?: number; wants?: (event: WebhookEvent) => boolean; store?: () => Promise<void> } = {}): Harness {
  const clock = new FakeClock();
  const sent: Harness['sent'] = [];
  const deadLetters: GivenUp[] = [];
  const counts: Harness['counts'] = { delivered: 0, deadLettered: 0, skipped: 0, failed: 0, waiting: 0, storeFailures: 0 };
  const attempts = new Map<string, number>();
  const delivery = new EndpointDelivery({
    send: async (e) => {
      const attempt = (attempts.get(e.eventId) ?? 0) + 1;
      attempts.set(e.eventId, attempt);
      sent.push({ eventId: e.eventId, at: clock.time });
      return (await options.answer?.(e, attempt)) ?? { ok: true };
    },
    deadLetter: async (given) => {
      await options.store?.();
      deadLetters.push(given);
    },
    wants: options.wants ?? (() => true),
    limiter: new Limiter(options.limit ?? 8),
    policy: POLICY,
    clock,
    random: () => 0.5,
    observer: {
      delivered: () => void counts.delivered++,
      deadLettered: () => void counts.deadLettered++,
      skipped: () => void counts.skipped++,
      attemptFailed: () => void counts.failed++,
      waiting: (change) => void (counts.waiting += change),
    },
    onStoreFailure: () => void counts.storeFailures++,
  });
  return { delivery, clock, sent, deadLetters, counts };
}

const running = { stopped: () => false };
const failure = (reason: 'status' | 'timeout' | 'network' = 'status', error = 'status 500'): AttemptResult => ({ ok: false, reason, error });

t.test("each account's events in order, one at a time; accounts side by side", async (t) => {
  let bSent!: () => void;
  const bFirst = new Promise<void>((resolve) => (bSent = resolve));
  const inFlight = new Map<string, number>();
  let overlapSameAccount = false;
  const { delivery, sent, counts } = harness({
    answer: async (e) => {
      inFlight.set(e.accountId, (inFlight.get(e.accountId) ?? 0) + 1);
      if (inFlight.get(e.accountId)! > 1) overlapSameAccount = true;
      if (e.eventId === '0:b1') bSent();
      // a1 is answered only once b1 has been sent: the two accounts are in flight together.
      if (e.eventId === '0:a1') await bFirst;
      await new Promise((resolve) => setImmediate(resolve));
      inFlight.set(e.accountId, inFlight.get(e.accountId)! - 1);
      return { ok: true };
    },
  });
  const batch = [event('a', 1), event('b', 1), event('a', 2), event('c', 1), event('b', 2), event('a', 3)];
  t.equal(await delivery.deliverBatch(batch, running), true, 'done: the offset may be committed');
  const of = (account: string) => sent.map((s) => s.eventId).filter((id) => id.startsWith(`0:${account}`));
  t.same(of('a'), ['0:a1', '0:a2', '0:a3']);
  t.same(of('b'), ['0:b1', '0:b2']);
  t.same(of('c'), ['0:c1']);
  t.notOk(overlapSameAccount, 'never two events of one account in flight');
  t.equal(counts.delivered, 6);
});

t.test('the endpoint bound: at most WEBHOOK_CONCURRENCY requests in flight, reached', async (t) => {
  let inFlight = 0;
  let most = 0;
  const { delivery } = harness({
    limit: 2,
    answer: async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return { ok: true };
    },
  });
  const batch = ['a', 'b', 'c', 'd', 'e'].flatMap((account) => [event(account, 1), event(account, 2)]);
  t.equal(await delivery.deliverBatch(batch, running), true);
  t.equal(most, 2);
});

t.test('failures are retried on the backoff schedule, then delivered; the next event waits for it', async (t) => {
  const { delivery, clock, sent, deadLetters, counts } = harness({ answer: (e, attempt) => (e.eventId === '0:a1' && attempt <= 3 ? failure() : { ok: true }) });
  t.equal(await delivery.deliverBatch([event('a', 1), event('a', 2)], running), true);
  // random 0.5: half of the ceilings 1000, 2000, 4000.
  t.same(sent, [
    { eventId: '0:a1', at: 0 },
    { eventId: '0:a1', at: 500 },
    { eventId: '0:a1', at: 1500 },
    { eventId: '0:a1', at: 3500 },
    { eventId: '0:a2', at: 3500 },
  ]);
  t.same(clock.sleeps, [500, 500, 500, 500, 500, 500, 500], 'waits of 500, 1000 and 2000 ms, slept in slices');
  t.same(deadLetters, []);
  t.match(counts, { delivered: 2, failed: 3, deadLettered: 0, waiting: 0 });
  t.equal(delivery.failingAccounts, 0, 'the account is no longer failing');
});

t.test('failing past the horizon: a dead letter; the account\'s next event gets one attempt, and a success starts afresh', async (t) => {
  const down = new Set(['0:a1', '0:a2']);
  const { delivery, sent, deadLetters, counts } = harness({
    answer: (e, attempt) => (down.has(e.eventId) ? failure('timeout', 'timeout after 5000 ms') : e.eventId === '0:a4' && attempt === 1 ? failure() : { ok: true }),
  });
  const batch = [event('a', 1), event('a', 2), event('a', 3), event('a', 4), event('b', 1)];
  t.equal(await delivery.deliverBatch(batch, running), true, 'done once everything is delivered or dead');
  const times = (id: string) => sent.filter((s) => s.eventId === id).map((s) => s.at);
  t.same(times('0:a1'), [0, 500, 1500, 3500, 5500, 7500, 9500, 10_000], 'retried until the horizon (10 s), the last wait shortened to meet it');
  t.same(times('0:a2'), [10_000], 'one attempt: the account has been failing for the horizon already');
  t.same(times('0:a3'), [10_000]);
  t.same(times('0:a4'), [10_000, 10_500], 'the run of failures ended with a3: a fresh horizon');
  t.same(times('0:b1'), [0], 'the other account went on meanwhile');
  t.same(
    deadLetters.map((d) => [d.event.eventId, d.attempts, d.lastError, d.firstAttemptAt, d.lastAttemptAt]),
    [
      ['0:a1', 8, 'timeout after 5000 ms', 0, 10_000],
      ['0:a2', 1, 'timeout after 5000 ms', 10_000, 10_000],
    ],
  );
  t.match(counts, { delivered: 3, deadLettered: 2, failed: 10, waiting: 0 });
});

t.test('the horizon holds across batches: an account still failing from the last batch gets one attempt', async (t) => {
  const { delivery, deadLetters } = harness({ answer: () => failure() });
  t.equal(await delivery.deliverBatch([event('a', 1)], running), true);
  t.equal(await delivery.deliverBatch([event('a', 2)], running), true);
  t.same(deadLetters.map((d) => [d.event.eventId, d.attempts]), [['0:a1', 8], ['0:a2', 1]]);
});

t.test('an account quiet for a horizon since its last failure is forgotten: its next event gets a whole horizon again', async (t) => {
  const { delivery, clock, deadLetters } = harness({ answer: () => failure() });
  t.equal(await delivery.deliverBatch([event('a', 1)], running), true);
  t.equal(delivery.failingAccounts, 1);
  clock.time += 70_000;
  t.equal(await delivery.deliverBatch([event('a', 2)], running), true);
  t.same(deadLetters.map((d) => [d.event.eventId, d.attempts]), [['0:a1', 8], ['0:a2', 8]], 'retried for the horizon, as a first failure is');
});

t.test('stopped while retrying: not done, nothing dead-lettered, the rest of the account not tried', async (t) => {
  let stop = false;
  const { delivery, sent, deadLetters, counts } = harness({
    answer: (_e, attempt) => {
      if (attempt === 2) stop = true;
      return failure();
    },
  });
  t.equal(await delivery.deliverBatch([event('a', 1), event('a', 2)], { stopped: () => stop }), false, 'the offset must not be committed');
  t.same(sent.map((s) => s.eventId), ['0:a1', '0:a1']);
  t.same(deadLetters, []);
  t.equal(counts.waiting, 0);
});

t.test('one account stopped leaves the batch not done, even with the others delivered', async (t) => {
  let stop = false;
  const { delivery, counts } = harness({
    answer: async (e) => {
      if (e.accountId !== 'a') return { ok: true };
      // Fails once b's event is on its way: the stop comes while a waits for its retry.
      await new Promise((resolve) => setImmediate(resolve));
      stop = true;
      return failure();
    },
  });
  t.equal(await delivery.deliverBatch([event('a', 1), event('b', 1)], { stopped: () => stop }), false);
  t.equal(counts.delivered, 1);
});

t.test("events the endpoint does not want are skipped: never sent, the batch still done", async (t) => {
  const { delivery, sent, counts } = harness({ wants: (e) => e.type === 'deposit.applied' && e.accountId === 'a' });
  const batch = [event('a', 1), event('a', 2, 'withdrawal.applied'), event('b', 1), event('a', 3)];
  t.equal(await delivery.deliverBatch(batch, running), true);
  t.same(sent.map((s) => s.eventId), ['0:a1', '0:a3']);
  t.match(counts, { delivered: 2, skipped: 2 });
  t.equal(await delivery.deliverBatch([event('b', 2)], running), true, 'a batch of skips only is done');
});

t.test('a dead letter that cannot be stored is tried again; the batch is done only once it is', async (t) => {
  let failures = 2;
  const { delivery, deadLetters, counts } = harness({
    answer: () => failure(),
    store: async () => {
      if (failures-- > 0) throw new Error('mongodb down');
    },
  });
  t.equal(await delivery.deliverBatch([event('a', 1)], running), true);
  t.equal(deadLetters.length, 1);
  t.equal(counts.storeFailures, 2);

  let stop = false;
  const stuck = harness({
    answer: () => failure(),
    store: async () => {
      stop = true;
      throw new Error('mongodb down');
    },
  });
  t.equal(await stuck.delivery.deliverBatch([event('a', 1)], { stopped: () => stop }), false, 'stopped before it was stored: not done');
  t.equal(stuck.counts.deadLettered, 0);
});

// Webhooks on the real stack (docs/webhooks.md): endpoints registered through
// NGINX point at a receiver on 127.0.0.1, deposits are made, and what the
// receiver gets is checked: every request signed (Standard Webhooks) with the
// body of the event, each account's events in order, only events published
// after the registration, retries past 500s and a hung first attempt, an
// endpoint's filters, a dead letter after the retry horizon and its
// redelivery, and every event at least once across a SIGKILL of the dispatcher.
// Each endpoint is deleted when its test ends.
import t, { type Test } from 'tap';
import { verifyProblem } from '../../common/webhooks.js';
import { parsePrometheus, sumOf, type Sample } from '../../scripts/shared/prometheus-text.js';
import { uniq } from '../helpers/http.js';
import { killComponent, readStack, waitFor, waitRestarted } from '../helpers/stack.js';
import { call, v1 } from '../helpers/v1.js';
import { startReceiver, type Delivery, type Receiver } from '../helpers/webhook-receiver.js';

const dispatcher = readStack().components.find((c) => c.kind === 'webhooks');
const skip = dispatcher?.port === undefined ? 'the stack runs no webhook dispatcher with metrics (WEBHOOKS_ENABLED, EVENTS_ENABLED, WEBHOOKS_METRICS_PORT)' : false;

async function dispatcherMetrics(): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${dispatcher!.port}/metrics`, { signal: AbortSignal.timeout(2000) });
  return parsePrometheus(await res.text());
}

/** The dispatcher's retry settings, as it reports them. */
async function settings() {
  const samples = await waitFor(dispatcherMetrics, { timeoutMs: 30_000, what: 'the dispatcher metrics' });
  return {
    horizonSeconds: sumOf(samples, 'teller_webhooks_retry_horizon_seconds'),
    timeoutSeconds: sumOf(samples, 'teller_webhooks_timeout_seconds'),
    capSeconds: sumOf(samples, 'teller_webhooks_backoff_cap_seconds'),
  };
}

interface Endpoint {
  id: string;
  path: string;
  secret: string;
}

/** Registers an endpoint on `receiver` (deleted when the test ends). */
async function register(t: Test, receiver: Receiver, name: string, filters: { eventTypes?: string[]; accountId?: string } = {}): Promise<Endpoint> {
  const id = uniq(name);
  const path = `/${id}`;
  const r = await call('POST', '/v1/webhooks', { id, url: receiver.url(path), ...filters });
  t.equal(r.status, 201, `${id} registered: ${JSON.stringify(r.body)}`);
  t.teardown(async () => void (await call('DELETE', `/v1/webhooks/${id}`)));
  return { id, path, secret: r.body.secret };
}

const parsed = (d: Delivery) => JSON.parse(d.body) as { eventId: string; accountId: string; type: string; transactionId: string; balance: number };

/** The first delivery each event was answered 2xx to, in arrival order: what a receiver deduplicating by webhook-id keeps. */
function firstDelivered(deliveries: Delivery[]): Delivery[] {
  const seen = new Set<string>();
  return deliveries.filter((d) => typeof d.answer === 'number' && d.answer < 300 && !seen.has(d.webhookId) && Boolean(seen.add(d.webhookId)));
}

/** Waits until `endpoint` has had each of `transactionIds` answered 2xx; answers those first deliveries, of the accounts given. */
async function delivered(receiver: Receiver, endpoint: Endpoint, accounts: Set<string>, transactionIds: string[], timeoutMs = 60_000): Promise<Delivery[]> {
  const wanted = new Set(transactionIds);
  return waitFor(
    () => {
      const done = firstDelivered(receiver.deliveries(endpoint.path)).filter((d) => accounts.has(parsed(d).accountId));
      return done.filter((d) => wanted.has(parsed(d).transactionId)).length >= wanted.size ? done : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `${transactionIds.length} events delivered to ${endpoint.id}` },
  );
}

/** `count` deposits of 1 on each account, one after another: their order is the ledger's. */
async function deposits(accounts: string[], count: number): Promise<Map<string, string[]>> {
  const ids = new Map(accounts.map((a) => [a, [] as string[]]));
  for (let n = 1; n <= count; n++) {
    for (const account of accounts) {
      const id = `${account}-d${n}`;
      const r = await v1.deposit(account, { id, amount: 1 });
      if (r.status !== 200) throw new Error(`deposit ${id} answered ${r.status}`);
      ids.get(account)!.push(id);
    }
  }
  return ids;
}

function checkSigned(t: Test, endpoint: Endpoint, deliveries: Delivery[]): void {
  const bad = deliveries.filter((d) => verifyProblem(endpoint.secret, d.headers, d.body, { nowMs: Date.now(), toleranceSeconds: 3600 }) !== undefined);
  t.same(bad.map((d) => d.webhookId), [], `every request to ${endpoint.id} is signed with its secret`);
  t.ok(deliveries.every((d) => d.headers['content-type'] === 'application/json' && d.webhookId === parsed(d).eventId), 'json, with the event id as webhook-id');
}

t.test('signed, in order per account, and only what was published after the registration', { skip }, async (t) => {
  const receiver = await startReceiver(t);
  const accounts = [uniq('wh-a'), uniq('wh-b'), uniq('wh-c')];
  const [first] = accounts as [string];
  // The deposit before the registration, seen on the topic (an endpoint of its own got it) before registering.
  const witness = await register(t, receiver, 'wh-witness', { accountId: first });
  t.equal((await v1.deposit(first, { id: `${first}-before`, amount: 5 })).status, 200);
  await delivered(receiver, witness, new Set([first]), [`${first}-before`]);

  const endpoint = await register(t, receiver, 'wh-all');
  const ids = await deposits(accounts, 4);
  const got = await delivered(receiver, endpoint, new Set(accounts), [...ids.values()].flat());
  for (const account of accounts) {
    const events = got.map(parsed).filter((e) => e.accountId === account);
    t.same(events.map((e) => e.transactionId), ids.get(account), `${account}: its deposits, in order, none from before the registration`);
    t.same(events.map((e) => e.type), ['deposit.applied', 'deposit.applied', 'deposit.applied', 'deposit.applied']);
    t.same(events.map((e) => e.balance), account === first ? [6, 7, 8, 9] : [1, 2, 3, 4], 'with the balance after each');
  }
  checkSigned(t, endpoint, receiver.deliveries(endpoint.path));
  t.notOk(receiver.deliveries(endpoint.path).some((d) => parsed(d).transactionId === `${first}-before`), 'the deposit before the registration never came');
});

t.test('an endpoint answering 500 to the first three attempts of each event gets every event, in order', { skip }, async (t) => {
  const receiver = await startReceiver(t);
  const account = uniq('wh-flaky');
  const endpoint = await register(t, receiver, 'wh-flaky', { accountId: account });
  receiver.answer(endpoint.path, (attempt) => (attempt <= 3 ? 500 : 200));
  const ids = await deposits([account], 3);
  const got = await delivered(receiver, endpoint, new Set([account]), ids.get(account)!, 120_000);
  t.same(got.map((d) => parsed(d).transactionId), ids.get(account), 'each delivered, in order');
  for (const d of got) t.equal(d.attempt, 4, `${parsed(d).transactionId}: delivered at the fourth attempt`);
  const all = receiver.deliveries(endpoint.path);
  const [d1, d2, d3] = ids.get(account)!.map((id) => all.findIndex((d) => parsed(d).transactionId === id));
  const deliveredAt = (id: string) => all.findIndex((d) => parsed(d).transactionId === id && d.answer === 200);
  t.ok(d1! < d2! && d2! < d3!, 'first attempts in order');
  t.ok(deliveredAt(ids.get(account)![0]!) < d2! && deliveredAt(ids.get(account)![1]!) < d3!, "no attempt at an event before the account's earlier one was delivered");
  checkSigned(t, endpoint, all);
  t.ok(sumOf(await dispatcherMetrics(), 'teller_webhooks_failed_attempts_total', { endpoint: endpoint.id, reason: 'status' }) >= 9, 'the failed attempts counted');
});

t.test('a first attempt left without an answer times out and is tried again', { skip }, async (t) => {
  const { timeoutSeconds, capSeconds } = await settings();
  const receiver = await startReceiver(t);
  const account = uniq('wh-hang');
  const endpoint = await register(t, receiver, 'wh-hang', { accountId: account });
  receiver.answer(endpoint.path, (attempt) => (attempt === 1 ? 'hang' : 200));
  const ids = await deposits([account], 2);
  const got = await delivered(receiver, endpoint, new Set([account]), ids.get(account)!, (timeoutSeconds * 2 + capSeconds * 2) * 1000 + 60_000);
  t.same(got.map((d) => parsed(d).transactionId), ids.get(account));
  for (const d of got) t.equal(d.attempt, 2, `${parsed(d).transactionId}: the second attempt, after the first hung`);
  t.ok(sumOf(await dispatcherMetrics(), 'teller_webhooks_failed_attempts_total', { endpoint: endpoint.id, reason: 'timeout' }) >= 2, 'counted as timeouts');
});

t.test("an endpoint filtered by account and type gets only those events", { skip }, async (t) => {
  const receiver = await startReceiver(t);
  const [mine, other] = [uniq('wh-mine'), uniq('wh-other')];
  const endpoint = await register(t, receiver, 'wh-filtered', { accountId: mine, eventTypes: ['withdrawal_request.approved'] });
  t.equal((await v1.deposit(other, { id: `${other}-d`, amount: 50 })).status, 200);
  t.equal((await v1.deposit(mine, { id: `${mine}-d`, amount: 50 })).status, 200);
  t.equal((await v1.request(mine, { id: `${mine}-r`, amount: 20 })).status, 201);
  t.equal((await v1.request(other, { id: `${other}-r`, amount: 20 })).status, 201);
  await delivered(receiver, endpoint, new Set([mine]), [`${mine}-r`]);
  // Caught up: everything published up to now is processed, the others' events skipped.
  const caughtUp = (samples: Sample[]) =>
    sumOf(samples, 'teller_webhooks_lag_events', { endpoint: endpoint.id }) === 0 && sumOf(samples, 'teller_webhooks_deliveries_total', { endpoint: endpoint.id, result: 'skipped' }) >= 3;
  await waitFor(async () => caughtUp(await dispatcherMetrics()) || undefined, {
    timeoutMs: 30_000,
    intervalMs: 250,
    what: `${endpoint.id} caught up`,
  });
  const got = receiver.deliveries(endpoint.path).map(parsed);
  t.same(
    got.map((e) => [e.accountId, e.type, e.transactionId]),
    [[mine, 'withdrawal_request.approved', `${mine}-r`]],
    "only the account's approved request",
  );
});

const horizonSeconds = skip ? 0 : (await settings()).horizonSeconds;
const longHorizon = horizonSeconds > 60 && `the dispatcher retries for ${horizonSeconds} s (WEBHOOK_RETRY_HORIZON_SECONDS); the stack test/setup.ts starts retries for a few`;

t.test('past the retry horizon an event is a dead letter; redelivered, it arrives and the dead letter is gone', { skip: skip || longHorizon }, async (t) => {
  const { capSeconds } = await settings();
  const receiver = await startReceiver(t);
  const account = uniq('wh-dead');
  const endpoint = await register(t, receiver, 'wh-dead', { accountId: account });
  let up = false;
  receiver.answer(endpoint.path, () => (up ? 200 : 500));
  t.equal((await v1.deposit(account, { id: `${account}-d`, amount: 3 })).status, 200);
  const letters = await waitFor(
    async () => {
      const r = await call('GET', `/v1/webhooks/${endpoint.id}/dead-letters`);
      return r.status === 200 && r.body.data.length > 0 ? r.body.data : undefined;
    },
    { timeoutMs: (horizonSeconds + capSeconds) * 1000 + 60_000, intervalMs: 250, what: 'the dead letter' },
  );
  t.equal(letters.length, 1);
  const [letter] = letters;
  t.match(letter, { accountId: account, type: 'deposit.applied', lastError: 'status 500', state: 'dead', event: { transactionId: `${account}-d`, amount: 3 } });
  t.ok(letter.attempts >= 1);
  const before = receiver.deliveries(endpoint.path).length;
  t.equal(before, letter.attempts, 'one request an attempt');

  up = true;
  const queued = await call('POST', `/v1/webhooks/${endpoint.id}/redeliver`, { eventIds: [letter.eventId] });
  t.equal(queued.status, 202);
  t.same(queued.body, { queued: 1 });
  const [redelivered] = await delivered(receiver, endpoint, new Set([account]), [`${account}-d`]);
  t.equal(redelivered!.webhookId, letter.eventId, 'the same webhook-id');
  t.same(JSON.parse(redelivered!.body), letter.event, 'the same event');
  checkSigned(t, endpoint, receiver.deliveries(endpoint.path));
  await waitFor(async () => ((await call('GET', `/v1/webhooks/${endpoint.id}/dead-letters`)).body.data.length === 0 ? true : undefined), {
    timeoutMs: 30_000,
    what: 'the dead letter deleted',
  });
});

t.test('the dispatcher SIGKILLed mid-flow: after its restart every event arrives at least once, in order per account', { skip }, async (t) => {
  const receiver = await startReceiver(t);
  const accounts = [uniq('wh-k1'), uniq('wh-k2'), uniq('wh-k3')];
  const endpoint = await register(t, receiver, 'wh-kill', { eventTypes: ['deposit.applied'] });
  // Slow answers keep deliveries in flight, so the kill lands between deliveries and their commit.
  receiver.answer(endpoint.path, () => 200, 50);
  const ids = new Map(accounts.map((a) => [a, [] as string[]]));
  let killed: number | undefined;
  for (let n = 1; n <= 15; n++) {
    for (const account of accounts) {
      const id = `${account}-d${n}`;
      t.equal((await v1.deposit(account, { id, amount: 1 })).status, 200, id);
      ids.get(account)!.push(id);
    }
    if (n === 5) {
      await delivered(receiver, endpoint, new Set(accounts), accounts.map((a) => `${a}-d3`));
      killed = killComponent('webhooks', 'SIGKILL');
    }
  }
  t.ok(killed, 'the dispatcher was killed');
  await waitRestarted('webhooks', killed!, 60_000);
  const got = await delivered(receiver, endpoint, new Set(accounts), [...ids.values()].flat(), 120_000);
  for (const account of accounts) {
    t.same(
      got.map(parsed).filter((e) => e.accountId === account).map((e) => e.transactionId),
      ids.get(account),
      `${account}: every deposit at least once, the first copies in order`,
    );
  }
  checkSigned(t, endpoint, receiver.deliveries(endpoint.path));
  const copies = receiver.deliveries(endpoint.path).length - got.length;
  t.comment(`${copies} repeated deliveries after the restart (deduplicated by webhook-id)`);
});

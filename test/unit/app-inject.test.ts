// The whole HTTP app (api/app.ts buildApp) with in-memory collaborators: the
// real submitter over a log that decides as each test says, a read model,
// statements, a readiness probe and the metrics. Answers are asserted as a
// client sees them: status, headers, body, problem+json.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { buildApp } from '../../api/app.js';
import { ApiKeyAuth, parseApiKeys } from '../../api/auth.js';
import type { ReadinessReport } from '../../api/health.js';
import { ApiMetrics } from '../../api/metrics.js';
import { TransactionSubmitter, type SubmitDeps } from '../../api/submit.js';
import { createError, TELLER_ERR_PRODUCER_UNAVAILABLE, TELLER_ERR_READ_MODEL_UNAVAILABLE } from '../../common/errors.js';
import type { AccountView, LogMessage, Outcome, TxMessage } from '../../common/types.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';

const PROBLEM = /^application\/problem\+json/;
const DECIDED_AT = Date.UTC(2024, 0, 2, 3, 4, 5);

/** The ledger's usual answer: applied, the amount as the new balance. */
function applied(msg: TxMessage): Outcome {
  return { id: msg.id, accountId: msg.accountId, type: msg.type, amount: msg.amount, requestId: msg.requestId, status: 'applied', balance: msg.amount ?? 0, reserved: 0, decidedAt: DECIDED_AT };
}

/**
 * The transaction log and the partition owners in one, standing for the
 * batcher and the outcome waiter: takes a message, decides it with `decide`
 * (undefined: no decision in time) and announces the outcome to the waiting call.
 */
class InMemoryLog {
  readonly sent: TxMessage[] = [];
  readonly listening = true;
  refusing = false;
  decide: (msg: TxMessage) => Outcome | undefined = applied;
  private readonly waiting = new Map<string, (outcome: Outcome | undefined) => void>();

  async send(msg: LogMessage): Promise<void> {
    if (this.refusing) throw createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'queue_full' });
    if (msg.type === 'tick') return;
    this.sent.push(msg);
    const outcome = this.decide(msg);
    if (outcome) this.waiting.get(`${msg.accountId}/${msg.id}`)?.(outcome);
  }

  wait(accountId: string, id: string, timeoutMs: number): { promise: Promise<Outcome | undefined>; cancel: () => void } {
    const key = `${accountId}/${id}`;
    let settle: (outcome: Outcome | undefined) => void = () => undefined;
    const promise = new Promise<Outcome | undefined>((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      settle = (outcome) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve(outcome);
      };
    });
    this.waiting.set(key, settle);
    return { promise, cancel: () => settle(undefined) };
  }
}

/** Redis as the id registry uses it: SET NX GET answers the account an id was first seen on. */
function inMemoryRegistry(): SubmitDeps['redis'] {
  const accounts = new Map<string, string>();
  const registry = {
    async set(key: string, accountId: string): Promise<string | null> {
      const previous = accounts.get(key) ?? null;
      if (previous === null) accounts.set(key, accountId);
      return previous;
    },
  };
  return registry as unknown as SubmitDeps['redis'];
}

async function build(t: Test, options: { auth?: ApiKeyAuth } = {}) {
  const log = new InMemoryLog();
  const accounts = new Map<string, AccountView>();
  const readiness: { current: ReadinessReport } = { current: { ready: true, checks: { kafka: { ok: true } } } };
  const readModel = {
    readModelDown: false,
    async account(accountId: string) {
      if (this.readModelDown) throw createError(TELLER_ERR_READ_MODEL_UNAVAILABLE);
      return accounts.get(accountId) ?? null;
    },
    async transaction() {
      return null;
    },
  };
  const metrics = new ApiMetrics({
    replicaId: 'test',
    producer: () => ({ queued: 0, inFlight: 0, lastBatchSize: 0, failing: false }),
    waiting: () => 0,
  });
  const silent = pino({ level: 'silent' });
  const submitter = new TransactionSubmitter({
    batcher: log,
    waiter: log,
    redis: inMemoryRegistry(),
    log: silent,
    replicaId: 'test',
    partitions: () => 4,
    decisionTimeoutMs: 30,
    idWindowSeconds: 60,
    requestTtlSeconds: 3600,
    onResult: (tx, result) => metrics.result(tx, result),
  });
  const statements = { page: async () => ({ entries: [] }) };
  const app = await buildApp({ log: silent, bodyLimit: 16 * 1024, submitter, readModel, probe: readiness, statements, metrics, ...options });
  t.teardown(() => app.close());
  return { app, log, accounts, readiness, readModel };
}

t.test('a deposit decided: v1 answers with Location and decidedAt, the compatibility route without', async (t) => {
  const { app, log } = await build(t);
  const v1 = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: 'd1', amount: 100 } });
  t.equal(v1.statusCode, 200);
  t.same(v1.json(), { id: 'd1', accountId: 'acct-1', type: 'deposit', amount: 100, status: 'applied', balance: 100, reserved: 0, decidedAt: '2024-01-02T03:04:05.000Z' });
  t.equal(v1.headers.location, '/v1/transactions/d1');
  t.match(log.sent, [{ id: 'd1', type: 'deposit', accountId: 'acct-1', amount: 100, replyTo: 'test' }], 'the message went to the log');

  const compatibility = await app.inject({ method: 'POST', url: '/transaction', payload: { id: 'd2', type: 'deposit', amount: 50, accountId: 'acct-1' } });
  t.equal(compatibility.statusCode, 200);
  t.same(compatibility.json(), { id: 'd2', accountId: 'acct-1', type: 'deposit', amount: 50, status: 'applied', balance: 50, reserved: 0 });
  t.equal(compatibility.headers.location, undefined);

  const metricsText = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metricsText, /teller_outcomes_total\{type="deposit",result="decided",status="applied",replica="test"\} 2/, 'both counted');
});

t.test('an id reused: with another body (the ledger says conflict) or on another account (the registry)', async (t) => {
  const { app, log } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), status: 'conflict', reason: 'id_reused' });
  const conflict = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: 'x1', amount: 5 } });
  t.equal(conflict.statusCode, 409);
  t.match(conflict.headers['content-type'], PROBLEM);
  t.same(conflict.json(), { type: 'urn:teller:problem:id-reused', title: 'Conflict', status: 409, detail: 'transaction id x1 was already used with another body' });

  const before = log.sent.length;
  const elsewhere = await app.inject({ method: 'POST', url: '/transaction', payload: { id: 'x1', type: 'deposit', amount: 5, accountId: 'acct-2' } });
  t.equal(elsewhere.statusCode, 409);
  t.match(elsewhere.json(), { type: 'urn:teller:problem:id-reused', title: 'Conflict', detail: /another account/ });
  t.equal(log.sent.length, before, 'refused before the log');
});

t.test('a cancel of a request that holds nothing: 404 request-not-held', async (t) => {
  const { app, log } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), status: 'not_found', reason: 'request_not_held' });
  const r = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/withdrawal-requests/r9/cancel', payload: { id: 'c1' } });
  t.equal(r.statusCode, 404);
  t.match(r.headers['content-type'], PROBLEM);
  t.match(r.json(), { type: 'urn:teller:problem:request-not-held', title: 'Not Found', status: 404, detail: /withdrawal request r9 holds no funds/ });
});

t.test('the producer refuses: 503 unavailable, retryAfter, nothing accepted', async (t) => {
  const { app, log } = await build(t);
  log.refusing = true;
  const r = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: 'd1', amount: 100 } });
  t.equal(r.statusCode, 503);
  t.match(r.headers['content-type'], PROBLEM);
  t.same(r.json(), {
    type: 'urn:teller:problem:unavailable',
    title: 'Service Unavailable',
    status: 503,
    detail: 'the transaction log cannot take the call now; nothing was accepted and a retry with the same id is safe',
    retryAfter: 1,
  });
});

t.test('an invalid body: 400 validation-error naming the field', async (t) => {
  const { app, log } = await build(t);
  const r = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: 'd1', amount: '10' } });
  t.equal(r.statusCode, 400);
  t.match(r.headers['content-type'], PROBLEM);
  t.match(r.json(), { type: 'urn:teller:problem:validation-error', title: 'Bad Request', status: 400, errors: [{ path: 'body/amount' }] });
  const noId = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { amount: 10 } });
  t.match(noId.json(), { status: 400, type: 'urn:teller:problem:id-required' });
  t.equal(log.sent.length, 0);
});

t.test('Prefer: respond-async: 202 at once, with Location and Preference-Applied', async (t) => {
  const { app, log } = await build(t);
  log.decide = () => undefined;
  const r = await app.inject({
    method: 'POST',
    url: '/v1/accounts/acct-1/withdrawals',
    headers: { prefer: 'respond-async', 'idempotency-key': 'w1' },
    payload: { amount: 30 },
  });
  t.equal(r.statusCode, 202);
  t.equal(r.headers.location, '/v1/transactions/w1');
  t.equal(r.headers['preference-applied'], 'respond-async');
  t.same(r.json(), { id: 'w1', accountId: 'acct-1', type: 'withdraw', amount: 30, status: 'pending' });
});

t.test('a withdrawal request not decided in time: 402 timeout (Location on v1 only), and its cancel is published', async (t) => {
  const { app, log } = await build(t);
  log.decide = () => undefined;
  const v1 = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/withdrawal-requests', payload: { id: 'r1', amount: 30 } });
  t.equal(v1.statusCode, 402);
  t.same(v1.json(), { id: 'r1', accountId: 'acct-1', type: 'withdraw_request', amount: 30, status: 'denied', reason: 'timeout' });
  t.equal(v1.headers.location, '/v1/transactions/r1');
  const compatibility = await app.inject({ method: 'POST', url: '/transaction', payload: { id: 'r2', type: 'withdraw_request', amount: 30, accountId: 'acct-1' } });
  t.equal(compatibility.statusCode, 402);
  t.match(compatibility.json(), { status: 'denied', reason: 'timeout' });
  t.equal(compatibility.headers.location, undefined);
  t.match(
    log.sent.filter((m) => m.type === 'cancel'),
    [{ id: 'r1~timeout', requestId: 'r1' }, { id: 'r2~timeout', requestId: 'r2' }],
  );
});

t.test('reads: an account, one never seen, and the read model down', async (t) => {
  const { app, accounts, readModel } = await build(t);
  accounts.set('acct-1', { accountId: 'acct-1', balance: 70, reserved: 20, updatedAt: DECIDED_AT });
  t.same((await app.inject({ method: 'GET', url: '/v1/accounts/acct-1' })).json(), {
    accountId: 'acct-1',
    balance: 70,
    reserved: 20,
    available: 50,
    updatedAt: '2024-01-02T03:04:05.000Z',
  });
  t.same((await app.inject({ method: 'GET', url: '/account/nobody' })).json(), { accountId: 'nobody', balance: 0 }, 'the original contract reads 0');
  t.match((await app.inject({ method: 'GET', url: '/v1/accounts/nobody' })).json(), { status: 404, type: 'urn:teller:problem:account-not-found' });
  readModel.readModelDown = true;
  const down = await app.inject({ method: 'GET', url: '/account/acct-1' });
  t.equal(down.statusCode, 503);
  t.match(down.json(), { type: 'urn:teller:problem:read-model-unavailable', retryAfter: 1 });
});

t.test('readiness: 503 not-ready with the checks', async (t) => {
  const { app, readiness } = await build(t);
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  readiness.current = { ready: false, checks: { kafka: { ok: true }, redis: { ok: false, error: 'refused' } } };
  const r = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(r.statusCode, 503);
  t.match(r.headers['content-type'], PROBLEM);
  t.same(r.json(), {
    type: 'urn:teller:problem:not-ready',
    title: 'Service Unavailable',
    status: 503,
    detail: 'not ready: redis unreachable',
    checks: readiness.current.checks,
  });
});

t.test('API keys: 401 with its challenge, 403 for an account the key may not touch', async (t) => {
  const key = mintKey();
  const { app } = await build(t, { auth: new ApiKeyAuth(parseApiKeys(apiKeyEntry(key, ['acct-1']))) });
  const missing = await app.inject({ method: 'GET', url: '/v1/accounts/acct-1' });
  t.equal(missing.statusCode, 401);
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="teller"');
  t.match(missing.json(), { type: 'urn:teller:problem:unauthorized', detail: /required/ });
  const wrong = await app.inject({ method: 'GET', url: '/v1/accounts/acct-1', headers: { authorization: 'Bearer nope' } });
  t.equal(wrong.headers['www-authenticate'], 'Bearer realm="teller"');
  t.match(wrong.json(), { status: 401, detail: 'the API key is not valid' });
  const forbidden = await app.inject({ method: 'GET', url: '/v1/accounts/acct-2', headers: { authorization: `Bearer ${key}` } });
  t.equal(forbidden.statusCode, 403);
  t.match(forbidden.json(), { type: 'urn:teller:problem:forbidden', detail: 'this API key may not act on account acct-2' });
});

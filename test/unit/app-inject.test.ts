// The whole HTTP app (api/app.ts buildApp) with in-memory collaborators
// (test/helpers/in-memory-app.ts). Answers are asserted as a client sees
// them: status, headers, body, problem+json.
import t from 'tap';
import { ApiKeyAuth, parseApiKeys } from '../../api/auth.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { applied, build, DECIDED_AT, PROBLEM } from '../helpers/in-memory-app.js';

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
  t.match(r.headers.location, /^\/v1\/transactions\/w1\?body=[0-9a-f]{20}$/, "the transaction's URL, for this call's body");
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
    overdraftLimit: 0,
    status: 'open',
    updatedAt: '2024-01-02T03:04:05.000Z',
  }, 'a hash without settings: the defaults');
  accounts.set('acct-2', { accountId: 'acct-2', balance: -30, reserved: 20, updatedAt: DECIDED_AT, overdraftLimit: 100, status: 'frozen' });
  t.same((await app.inject({ method: 'GET', url: '/v1/accounts/acct-2' })).json(), {
    accountId: 'acct-2',
    balance: -30,
    reserved: 20,
    available: 50,
    overdraftLimit: 100,
    status: 'frozen',
    updatedAt: '2024-01-02T03:04:05.000Z',
  }, 'the overdraft limit counts in the available funds');
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

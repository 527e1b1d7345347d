// Each call answered by its own body, as a client of the whole HTTP app sees
// it (in-memory collaborators, test/helpers/in-memory-app.ts): a poller after
// respond-async learns its call was refused, a request carries its time to
// live, waiting calls carry their own token, and the compatibility timestamp
// is checked and kept as the client's claim.
import t from 'tap';
import { applied, build, PROBLEM } from '../helpers/in-memory-app.js';

t.test('respond-async after a conflict: polling the Location answers 409, not the other body\'s outcome', async (t) => {
  const { app, log, transactions } = await build(t);
  const first = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: 'd1', amount: 100 } });
  t.equal(first.statusCode, 200);
  transactions.set('d1', { accountId: 'acct-1' });
  log.decide = () => undefined;
  const again = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', headers: { prefer: 'respond-async' }, payload: { id: 'd1', amount: 999 } });
  t.equal(again.statusCode, 202);
  const location = again.headers.location as string;
  t.match(location, /^\/v1\/transactions\/d1\?body=[0-9a-f]{20}$/);
  t.match((await app.inject({ method: 'GET', url: location })).json(), { id: 'd1', status: 'pending' }, 'pending while undecided');

  // The owner decided the first call; the second is a conflict, and only its digest says so.
  transactions.set('d1', { accountId: 'acct-1', outcome: applied(log.sent[0]!) });
  const polled = await app.inject({ method: 'GET', url: location });
  t.equal(polled.statusCode, 409);
  t.match(polled.headers['content-type'], PROBLEM);
  t.same(polled.json(), { type: 'urn:teller:problem:id-reused', title: 'Conflict', status: 409, detail: 'transaction id d1 was already used with another body' });
  t.match((await app.inject({ method: 'GET', url: '/v1/transactions/d1' })).json(), { status: 'applied', amount: 100 }, 'without a digest: the decision under the id');

  // A call of the first body polls its own decision.
  const same = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', headers: { prefer: 'respond-async' }, payload: { id: 'd1', amount: 100 } });
  const own = await app.inject({ method: 'GET', url: same.headers.location as string });
  t.equal(own.statusCode, 200);
  t.match(own.json(), { id: 'd1', status: 'applied', amount: 100 });
  t.equal((await app.inject({ method: 'GET', url: '/v1/transactions/d1?body=not-a-digest' })).statusCode, 400, 'a malformed digest');
});

t.test("a withdrawal request carries its time to live; naming the default is the same body as naming none", async (t) => {
  const { app, log } = await build(t);
  log.decide = () => undefined;
  const send = (payload: object) =>
    app.inject({ method: 'POST', url: '/v1/accounts/acct-1/withdrawal-requests', headers: { prefer: 'respond-async' }, payload: { id: 'r1', amount: 30, ...payload } });
  const none = await send({});
  const explicitDefault = await send({ expiresInSeconds: 3600 });
  const other = await send({ expiresInSeconds: 60 });
  t.match(log.sent, [{ expiresInSeconds: 3600 }, { expiresInSeconds: 3600 }, { expiresInSeconds: 60 }], "the api's default filled in");
  t.equal(none.headers.location, explicitDefault.headers.location, 'one body, one digest');
  t.not(none.headers.location, other.headers.location, 'another time to live, another body');
});

t.test('calls that do not wait ask for no announcement; waiting calls carry their own token', async (t) => {
  const { app, log } = await build(t);
  await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: 'd1', amount: 1 } });
  await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: 'd1', amount: 1 } });
  log.decide = () => undefined;
  await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', headers: { prefer: 'respond-async' }, payload: { id: 'd2', amount: 1 } });
  const [one, two, async] = log.sent;
  t.match(one, { replyTo: 'test', callId: String });
  t.not(one?.callId, two?.callId, 'one token a call, even under one id');
  t.equal(async?.replyTo, undefined);
  t.equal(async?.callId, undefined);
});

t.test('the compatibility timestamp: RFC 3339 or epoch ms, kept as the client claimed it; anything else is a 400 and nothing is sent', async (t) => {
  const { app, log } = await build(t);
  const post = (timestamp: unknown, id: string) =>
    app.inject({ method: 'POST', url: '/transaction', payload: { id, type: 'deposit', amount: 1, accountId: 'acct-1', timestamp } });
  for (const [n, bad] of [
    'yesterday',
    '',
    '2024-02-30T00:00:00Z',
    '2024-01-01T00:00:00',
    '2024-01-01 00:00:00Z',
    '2024-01-01T00:00:00+0100',
    '2024-01-01T00:00:00+01',
    '2016-12-31T22:59:60Z',
    '1704067200000',
    -1,
    1.5,
    8_640_000_000_000_001,
    true,
    null,
  ].entries()) {
    const r = await post(bad, `bad-${n}`);
    t.equal(r.statusCode, 400, `${JSON.stringify(bad)} refused`);
    t.match(r.headers['content-type'], PROBLEM);
    // A number with a fraction, or past 2^53 - 1, is refused as ambiguous JSON before the schema sees it.
    const ambiguous = typeof bad === 'number' && (!Number.isInteger(bad) || !Number.isSafeInteger(bad));
    const expected = ambiguous ? { type: 'urn:teller:problem:ambiguous-json' } : { type: 'urn:teller:problem:validation-error', errors: [{ path: 'body/timestamp' }] };
    t.match(r.json(), expected, `${JSON.stringify(bad)}: the field named, or the number refused`);
  }
  t.equal(log.sent.length, 0, 'nothing reached the log');

  t.equal((await post('2024-01-01T01:00:00+01:00', 'ok-1')).statusCode, 200);
  t.equal((await post(1_704_067_200_000, 'ok-2')).statusCode, 200);
  t.equal((await app.inject({ method: 'POST', url: '/transaction', payload: { id: 'ok-3', type: 'deposit', amount: 1, accountId: 'acct-1' } })).statusCode, 200);
  t.match(log.sent, [
    { id: 'ok-1', clientTimestamp: '2024-01-01T00:00:00.000Z' },
    { id: 'ok-2', clientTimestamp: '2024-01-01T00:00:00.000Z' },
    { id: 'ok-3' },
  ]);
  t.notOk('clientTimestamp' in log.sent[2]!, 'no timestamp, no claim');
});

t.test('a withdrawal request whose hold would outlive its id is refused, and nothing is sent', async (t) => {
  const { app, log } = await build(t);
  const url = '/v1/accounts/acct-1/withdrawal-requests';
  const longer = await app.inject({ method: 'POST', url, payload: { id: 'r-long', amount: 10, expiresInSeconds: 7201 } });
  t.equal(longer.statusCode, 400);
  t.match(longer.headers['content-type'], PROBLEM);
  t.match(longer.json(), { type: 'urn:teller:problem:hold-outlives-id', status: 400, maxExpiresInSeconds: 7200 });
  t.same(log.sent, [], 'nothing in the log');
  const window = await app.inject({ method: 'POST', url, payload: { id: 'r-window', amount: 10, expiresInSeconds: 7200 } });
  t.not(window.statusCode, 400, 'as long as the id window: taken');
  t.match(log.sent, [{ id: 'r-window', expiresInSeconds: 7200 }]);
});

t.test('a transaction by account and id: its decision, pending, or 404 on another account', async (t) => {
  const { app, log, transactions } = await build(t);
  await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: 'd1', amount: 100 } });
  transactions.set('d1', { accountId: 'acct-1', outcome: applied(log.sent[0]!) });
  const decided = await app.inject({ method: 'GET', url: '/v1/accounts/acct-1/transactions/d1' });
  t.equal(decided.statusCode, 200);
  t.match(decided.json(), { id: 'd1', accountId: 'acct-1', status: 'applied', amount: 100 });
  const other = await app.inject({ method: 'GET', url: '/v1/accounts/acct-2/transactions/d1' });
  t.equal(other.statusCode, 404);
  t.match(other.json(), { type: 'urn:teller:problem:transaction-not-found' });
  transactions.set('d2', { accountId: 'acct-1' });
  t.match((await app.inject({ method: 'GET', url: '/v1/accounts/acct-1/transactions/d2' })).json(), { id: 'd2', status: 'pending' });
  const statement = await app.inject({ method: 'GET', url: '/v1/accounts/acct-1/transactions' });
  t.match(statement.json(), { type: 'urn:teller:problem:account-not-found' }, "the statement is still its own route (an account the read model does not know)");
});

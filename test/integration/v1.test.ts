// The v1 resource API through NGINX on the real stack: writes and their
// answers, holds settled and cancelled, ids from the body or Idempotency-Key,
// Prefer: respond-async, account state, transaction status and statements.
import { Redis } from 'ioredis';
import t from 'tap';
import { keys } from '../../common/read-model.js';
import { uniq } from '../helpers/http.js';
import { readStack, waitFor } from '../helpers/stack.js';
import { call, v1 } from '../helpers/v1.js';

const PROBLEM = /^application\/problem\+json/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

t.test('deposit, holds settled and cancelled, account state', async (t) => {
  const a = uniq('v1');
  const id = (s: string) => `${a}-${s}`;

  let r = await v1.deposit(a, { id: id('d1'), amount: 1000 });
  t.equal(r.status, 200, 'deposit -> 200');
  t.match(r.body, { id: id('d1'), accountId: a, type: 'deposit', amount: 1000, status: 'applied', balance: 1000, reserved: 0 });
  t.match(r.body.decidedAt, ISO, 'decidedAt is an ISO timestamp');
  t.equal(r.headers.get('location'), `/v1/transactions/${id('d1')}`);

  r = await v1.request(a, { id: id('r1'), amount: 300 });
  t.equal(r.status, 201, 'request 300 -> 201');
  t.match(r.body, { status: 'approved', balance: 1000, reserved: 300 });
  r = await v1.request(a, { id: id('r2'), amount: 800 });
  t.equal(r.status, 402, 'request 800 of 700 available -> 402');
  t.match(r.body, { status: 'denied', reason: 'insufficient_funds', reserved: 300 });
  r = await v1.request(a, { id: id('r3'), amount: 200, expiresInSeconds: 3600 });
  t.equal(r.status, 201, 'request 200 -> 201');
  t.match(r.body, { reserved: 500 });

  r = await v1.withdraw(a, { id: id('w1'), amount: 300, requestId: id('r1') });
  t.equal(r.status, 200, 'withdrawal settling r1 -> 200');
  t.match(r.body, { type: 'withdraw', requestId: id('r1'), balance: 700, reserved: 200 }, 'exactly r1 is released');
  t.notOk(r.body.reason, 'no reason: the hold was there');

  r = await v1.cancel(a, id('r3'), { id: id('c1') });
  t.equal(r.status, 200, 'cancel r3 -> 200');
  t.match(r.body, { type: 'cancel', requestId: id('r3'), status: 'applied', reserved: 0 });

  for (const [what, requestId, cancelId] of [
    ['a cancelled request', id('r3'), id('c2')],
    ['a settled request', id('r1'), id('c3')],
    ['a denied request', id('r2'), id('c4')],
    ['an unknown request', id('nope'), id('c5')],
  ] as const) {
    r = await v1.cancel(a, requestId, { id: cancelId });
    t.equal(r.status, 404, `cancel of ${what} -> 404`);
    t.match(r.headers.get('content-type'), PROBLEM);
    t.match(r.body, { status: 404, type: 'urn:teller:problem:request-not-held' });
  }

  r = await v1.withdraw(a, { id: id('w2'), amount: 50, requestId: id('r3') });
  t.equal(r.status, 200, 'a withdrawal naming a request no longer held still posts');
  t.match(r.body, { reason: 'request_not_held', balance: 650, reserved: 0 });

  r = await v1.account(a);
  t.equal(r.status, 200);
  t.match(r.body, { accountId: a, balance: 650, reserved: 0, available: 650 });
  t.match(r.body.updatedAt, ISO);

  const missing = await v1.account(uniq('nobody'));
  t.equal(missing.status, 404, 'an account never seen -> 404');
  t.match(missing.headers.get('content-type'), PROBLEM);

  // What became of each call, by id.
  const statusOf = async (x: string) => (await v1.transaction(x)).body.status;
  t.equal(await statusOf(id('r2')), 'denied');
  t.equal(await statusOf(id('r3')), 'cancelled', 'a cancelled request reads cancelled');
  t.equal(await statusOf(id('w1')), 'applied');
  const tr = await v1.transaction(id('r1'));
  t.match(tr.body, { id: id('r1'), accountId: a, type: 'withdraw_request', amount: 300, status: 'approved' });
});

t.test('holds: overdraft flagged, withdrawal without requestId takes the oldest holds', async (t) => {
  const a = uniq('v1od');
  t.equal((await v1.deposit(a, { id: `${a}-d`, amount: 100 })).status, 200);
  t.equal((await v1.request(a, { id: `${a}-r1`, amount: 40 })).status, 201);
  t.equal((await v1.request(a, { id: `${a}-r2`, amount: 40 })).status, 201);
  let r = await v1.withdraw(a, { id: `${a}-w1`, amount: 50 });
  t.match(r.body, { balance: 50, reserved: 30 }, 'reserved -= min(reserved, amount), oldest first');
  r = await v1.withdraw(a, { id: `${a}-w2`, amount: 80 });
  t.equal(r.status, 200, 'a withdrawal always posts');
  t.match(r.body, { balance: -30, reserved: 0, overdraft: true });
});

t.test('ids: Idempotency-Key, replays, mismatches and reuse', async (t) => {
  const a = uniq('v1id');
  const key = `${a}-k1`;
  let r = await v1.deposit(a, { amount: 70 }, { 'idempotency-key': key });
  t.equal(r.status, 200, 'the id may come as Idempotency-Key');
  t.match(r.body, { id: key, balance: 70 });
  t.equal(r.headers.get('idempotent-replayed'), null);

  r = await v1.deposit(a, { amount: 70 }, { 'idempotency-key': key });
  t.equal(r.status, 200, 'the same key again -> the first outcome');
  t.match(r.body, { id: key, balance: 70, replayed: true });
  t.equal(r.headers.get('idempotent-replayed'), 'true');

  r = await v1.deposit(a, { id: key, amount: 70 }, { 'idempotency-key': key });
  t.equal(r.status, 200, 'body id and the same key: fine');
  t.match(r.body, { replayed: true, balance: 70 });

  r = await v1.deposit(a, { id: `${a}-other`, amount: 70 }, { 'idempotency-key': key });
  t.equal(r.status, 400, 'body id and key differ -> 400');
  t.match(r.body, { type: 'urn:teller:problem:id-mismatch' });

  r = await v1.deposit(a, { amount: 70 });
  t.equal(r.status, 400, 'no id at all -> 400');
  t.match(r.body, { type: 'urn:teller:problem:id-required' });

  r = await v1.deposit(a, { amount: 70 }, { 'idempotency-key': 'has spaces' });
  t.equal(r.status, 400, 'a key that is not a valid id -> 400');
  t.match(r.headers.get('content-type'), PROBLEM);

  r = await v1.deposit(a, { amount: 71 }, { 'idempotency-key': key });
  t.equal(r.status, 409, 'the same key with another amount -> 409');
  t.match(r.body, { type: 'urn:teller:problem:id-reused' });
  r = await v1.withdraw(a, { id: key, amount: 70 });
  t.equal(r.status, 409, 'the same id as another type -> 409');
  r = await v1.deposit(uniq('v1id-other'), { amount: 70 }, { 'idempotency-key': key });
  t.equal(r.status, 409, 'the same id on another account -> 409');
  t.equal((await v1.account(a)).body.balance, 70, 'applied once');
});

t.test('Prefer: respond-async answers 202 at once; the decision follows at Location', async (t) => {
  const a = uniq('v1async');
  let r = await v1.deposit(a, { id: `${a}-d`, amount: 500 }, { prefer: 'respond-async' });
  t.equal(r.status, 202);
  t.match(r.body, { id: `${a}-d`, status: 'pending' });
  t.equal(r.headers.get('preference-applied'), 'respond-async');
  const location = r.headers.get('location')!;
  t.match(location, new RegExp(`^/v1/transactions/${a}-d\\?body=[0-9a-f]{20}$`), "the transaction's URL, with the digest of this call's body");
  const decided = await waitFor(
    async () => {
      const s = await call('GET', location);
      return s.status === 200 && s.body.status !== 'pending' ? s : undefined;
    },
    { what: 'the deposit decided', timeoutMs: 10_000, intervalMs: 50 },
  );
  t.match(decided.body, { status: 'applied', balance: 500 });

  // Preferences are a list; tokens are case-insensitive.
  r = await v1.request(a, { id: `${a}-r`, amount: 200 }, { prefer: 'wait=10, Respond-Async' });
  t.equal(r.status, 202, 'a withdrawal request with respond-async -> 202');
  const req = await waitFor(
    async () => {
      const s = await v1.transaction(`${a}-r`);
      return s.body?.status !== 'pending' ? s : undefined;
    },
    { what: 'the request decided', timeoutMs: 10_000, intervalMs: 50 },
  );
  t.match(req.body, { status: 'approved', reserved: 200 });

  r = await v1.cancel(a, `${a}-r`, { id: `${a}-c` }, { prefer: 'respond-async' });
  t.equal(r.status, 202, 'a cancel with respond-async -> 202');
  await waitFor(async () => (await v1.account(a)).body?.reserved === 0, { what: 'the hold released', timeoutMs: 10_000, intervalMs: 50 });

  r = await v1.deposit(a, { id: `${a}-d2`, amount: 1 }, { prefer: 'return=minimal' });
  t.equal(r.status, 200, 'other preferences: the call waits for the decision');
  t.equal(r.headers.get('preference-applied'), null);
});

t.test('transaction status: pending while registered and undecided, 404 when unknown', async (t) => {
  const stack = readStack();
  const redis = new Redis(stack.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  t.teardown(() => redis.disconnect());
  // An id the registry holds and no owner decided yet: what a client sees between 202 and the decision.
  const id = uniq('v1pending');
  await redis.set(keys.txId(id), 'some-account', 'EX', 60);
  const r = await v1.transaction(id);
  t.equal(r.status, 200);
  t.same(r.body, { id, accountId: 'some-account', status: 'pending' });

  const unknown = await v1.transaction(uniq('v1unknown'));
  t.equal(unknown.status, 404);
  t.match(unknown.headers.get('content-type'), PROBLEM);
  t.equal((await v1.transaction('not a valid id')).status, 400);
  // Lookups take the ids the owners mint too (a transfer's credit: up to 240 characters, with `~`).
  t.equal((await v1.transaction('x'.repeat(240))).status, 404, 'the longest valid id is routed');
  t.equal((await v1.transaction('x~credit~y~1'.padEnd(240, 'z'))).status, 404, 'a minted id is routed');
  t.equal((await v1.transaction('x'.repeat(241))).status, 400, 'a longer one is refused as invalid');
});

t.test('statement: newest first, cursor pages stable under concurrent writes', async (t) => {
  const a = uniq('v1stmt');
  const n = 12;
  for (let i = 1; i <= n; i++) t.equal((await v1.deposit(a, { id: `${a}-${i}`, amount: i })).status, 200);
  // The ledger insert follows the answer by a few ms.
  await waitFor(async () => (await v1.statement(a, '?limit=100')).body?.data?.length === n, { what: `${n} entries`, timeoutMs: 20_000 });

  const seen: string[] = [];
  let page = await v1.statement(a, '?limit=5');
  t.equal(page.status, 200);
  t.equal(page.body.data.length, 5);
  t.equal(page.body.hasMore, true);
  t.match(page.headers.get('link'), /^<\/v1\/accounts\/.+\/transactions\?limit=5&after=[A-Za-z0-9_-]+>; rel="next"$/);
  seen.push(...page.body.data.map((e: { id: string }) => e.id));
  // New transactions while the client pages: they land above its cursor.
  for (let i = n + 1; i <= n + 4; i++) t.equal((await v1.deposit(a, { id: `${a}-${i}`, amount: i })).status, 200);
  while (page.body.hasMore) {
    page = await v1.statement(a, `?limit=5&after=${page.body.nextCursor}`);
    t.equal(page.status, 200);
    seen.push(...page.body.data.map((e: { id: string }) => e.id));
  }
  t.same(
    seen,
    Array.from({ length: n }, (_, i) => `${a}-${n - i}`),
    'every entry once, newest first, none of the later writes',
  );
  t.notOk(page.body.nextCursor, 'the last page has no cursor');

  // The later writes' ledger inserts trail their answers too.
  const first = await waitFor(
    async () => {
      const newest = await v1.statement(a, '?limit=1');
      return newest.body?.data?.[0]?.id === `${a}-${n + 4}` ? newest : undefined;
    },
    { what: 'the newest write in the statement', timeoutMs: 20_000 },
  );
  t.match(first.body.data[0], { id: `${a}-${n + 4}`, type: 'deposit', amount: n + 4, status: 'applied', balanceAfter: ((n + 4) * (n + 5)) / 2, reservedAfter: 0 });
  t.match(first.body.data[0].createdAt, ISO);

  const def = await v1.statement(a);
  t.equal(def.body.data.length, 16, 'default page size (25) takes all 16');

  for (const [query, what] of [
    ['?limit=0', 'limit 0'],
    ['?limit=101', 'limit over 100'],
    ['?limit=abc', 'limit not a number'],
    ['?after=!!', 'a cursor with other characters'],
    ['?after=bm90LWEtY3Vyc29y', 'a cursor we did not make'],
    ['?limit=5&extra=1', 'an unknown parameter'],
  ]) {
    const r = await v1.statement(a, query);
    t.equal(r.status, 400, `${what} -> 400`);
    t.match(r.headers.get('content-type'), PROBLEM);
  }
  t.equal((await v1.statement(uniq('nobody'))).status, 404, 'an account never seen -> 404');
});

t.test('validation: every body is checked, and nothing changes', async (t) => {
  const a = uniq('v1bad');
  t.equal((await v1.deposit(a, { id: `${a}-seed`, amount: 10 })).status, 200);
  const cases: [string, () => Promise<{ status: number; headers: Headers }>][] = [
    ['a zero amount', () => v1.deposit(a, { id: `${a}-x1`, amount: 0 })],
    ['a string amount', () => v1.deposit(a, { id: `${a}-x2`, amount: '10' })],
    ['a fractional amount', () => v1.withdraw(a, { id: `${a}-x3`, amount: 1.5 })],
    ['an unknown field', () => v1.deposit(a, { id: `${a}-x4`, amount: 1, accountId: 'other' })],
    ['expiresInSeconds 0', () => v1.request(a, { id: `${a}-x5`, amount: 1, expiresInSeconds: 0 })],
    ['expiresInSeconds over 30 days', () => v1.request(a, { id: `${a}-x6`, amount: 1, expiresInSeconds: 30 * 86400 + 1 })],
    ['an invalid requestId', () => v1.withdraw(a, { id: `${a}-x7`, amount: 1, requestId: 'a b' })],
    ['an amount on a cancel', () => v1.cancel(a, `${a}-r`, { id: `${a}-x8`, amount: 1 })],
    ['an invalid account id', () => v1.deposit('$where', { id: `${a}-x9`, amount: 1 })],
    ['not JSON', () => call('POST', `/v1/accounts/${a}/deposits`, 'id=1', { 'content-type': 'application/x-www-form-urlencoded' })],
  ];
  for (const [what, send] of cases) {
    const r = await send();
    t.ok(r.status === 400 || r.status === 415, `${what} -> ${r.status}`);
    t.match(r.headers.get('content-type'), PROBLEM);
  }
  t.match((await v1.account(a)).body, { balance: 10, reserved: 0 }, 'nothing changed');
});

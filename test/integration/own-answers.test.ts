// Each call gets the answer of its own body, on the real stack: calls with one
// id sent at once (through NGINX, which spreads them over the replicas, and
// straight to one replica, whose waiter then holds them all), a request's time
// to live as part of its body, a poller after respond-async learning its own
// call was refused, and the compatibility timestamp checked and kept as the
// client's claim.
import t, { type Test } from 'tap';
import { request as call, uniq, type Reply } from '../helpers/http.js';
import { closeLedger, ledgerDocs } from '../helpers/ledger.js';
import { baseUrl, config, readStack, waitFor } from '../helpers/stack.js';

t.teardown(closeLedger);

const PROBLEM = /^application\/problem\+json/;

const replica = readStack().components.find((c) => c.kind === 'api' && c.port !== undefined);
if (!replica) throw new Error('the stack lists no api replica with a port');
/** Through NGINX, and straight to one replica. */
const ROUTES: [string, string][] = [
  ['through NGINX', baseUrl],
  [`straight to ${replica.name}`, `http://127.0.0.1:${replica.port}`],
];

const account = (a: string) => `/v1/accounts/${encodeURIComponent(a)}`;

async function balanceOf(a: string, base: string): Promise<number> {
  const r = await call('GET', account(a), undefined, {}, base);
  return r.status === 404 ? 0 : (r.body.balance as number);
}

function isIdReused(t: Test, r: Reply, what: string): void {
  t.match(r.headers.get('content-type'), PROBLEM, `${what}: problem+json`);
  t.match(r.body, { type: 'urn:teller:problem:id-reused', status: 409 }, `${what}: id-reused`);
}

for (const [route, base] of ROUTES) {
  t.test(`${route}: 10 deposits at once with one id and amounts 1..10 each read their own answer`, async (t) => {
    const a = uniq('own-10');
    const id = `${a}-d`;
    const amounts = Array.from({ length: 10 }, (_, i) => i + 1);
    const replies = await Promise.all(amounts.map((amount) => call('POST', `${account(a)}/deposits`, { id, amount }, {}, base)));
    const applied = replies.filter((r) => r.status === 200);
    t.equal(applied.length, 1, `exactly one applied (statuses ${replies.map((r) => r.status).join(' ')})`);
    replies.forEach((r, i) => {
      if (r.status === 200) {
        t.equal(r.body.amount, amounts[i], 'the applied answer carries its own amount');
        t.notOk(r.body.replayed, 'and is not a replay');
        t.equal(r.headers.get('idempotent-replayed'), null);
      } else {
        t.equal(r.status, 409, `amount ${amounts[i]}: another body -> 409`);
        isIdReused(t, r, `amount ${amounts[i]}`);
      }
    });
    const winner = applied[0]!.body.amount as number;
    t.equal(await balanceOf(a, base), winner, 'the balance moved once, by the applied amount');
    const decided = await call('GET', `/v1/transactions/${encodeURIComponent(id)}`, undefined, {}, base);
    t.match(decided.body, { status: 'applied', amount: winner }, 'the id reads the applied call');
  });

  t.test(`${route}: repeats of one body among others: one first answer, replays marked, the rest 409`, async (t) => {
    const a = uniq('own-dup');
    const id = `${a}-d`;
    const amounts = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5];
    const replies = await Promise.all(amounts.map((amount) => call('POST', `${account(a)}/deposits`, { id, amount }, {}, base)));
    const first = replies.filter((r) => r.status === 200 && !r.body.replayed);
    t.equal(first.length, 1, 'one first answer');
    const winner = first[0]!.body.amount as number;
    replies.forEach((r, i) => {
      const amount = amounts[i]!;
      if (amount !== winner) {
        t.equal(r.status, 409, `amount ${amount}: another body -> 409`);
        return;
      }
      t.equal(r.status, 200, `amount ${amount}: the winning body`);
      t.equal(r.body.amount, amount, 'its own amount');
      if (r !== first[0]) {
        t.equal(r.body.replayed, true, 'the other call of the winning body is a replay');
        t.equal(r.headers.get('idempotent-replayed'), 'true', 'marked Idempotent-Replayed');
      }
    });
    t.equal(await balanceOf(a, base), winner, 'applied once');
  });

  t.test(`${route}: one id as deposits and withdrawal requests at once: each answer's type is its own`, async (t) => {
    const a = uniq('own-mixed');
    t.equal((await call('POST', `${account(a)}/deposits`, { id: `${a}-fund`, amount: 100 }, {}, base)).status, 200);
    const id = `${a}-x`;
    const kinds = ['deposits', 'withdrawal-requests', 'deposits', 'withdrawal-requests', 'deposits', 'withdrawal-requests', 'deposits', 'withdrawal-requests'];
    const replies = await Promise.all(kinds.map((kind) => call('POST', `${account(a)}/${kind}`, { id, amount: 7 }, {}, base)));
    const decided = replies.filter((r) => r.status !== 409);
    t.ok(decided.length >= 1, 'the first is decided');
    t.equal(decided.filter((r) => !r.body.replayed).length, 1, 'one first answer');
    const winnerType = decided.find((r) => !r.body.replayed)!.body.type as string;
    replies.forEach((r, i) => {
      const own = kinds[i] === 'deposits' ? 'deposit' : 'withdraw_request';
      if (r.status === 409) {
        t.not(own, winnerType, `${own}: refused only when it is not the decided type`);
        isIdReused(t, r, own);
      } else {
        t.equal(r.body.type, own, `a ${own} call answered as a ${own}`);
        t.equal(own, winnerType, 'only calls of the decided type are answered with a decision');
      }
    });
  });
}

t.test("a request's time to live is part of its body: another one is 409, the default named or not is one body", async (t) => {
  const a = uniq('own-ttl');
  t.equal((await call('POST', `${account(a)}/deposits`, { id: `${a}-fund`, amount: 100 })).status, 200);
  const requests = `${account(a)}/withdrawal-requests`;
  let r = await call('POST', requests, { id: `${a}-r1`, amount: 10, expiresInSeconds: 600 });
  t.equal(r.status, 201);
  r = await call('POST', requests, { id: `${a}-r1`, amount: 10, expiresInSeconds: 601 });
  t.equal(r.status, 409, 'the same id with another expiresInSeconds -> 409');
  isIdReused(t, r, 'another time to live');
  r = await call('POST', requests, { id: `${a}-r1`, amount: 10, expiresInSeconds: 600 });
  t.equal(r.status, 201, 'the same time to live again -> the first outcome');
  t.equal(r.headers.get('idempotent-replayed'), 'true');

  r = await call('POST', requests, { id: `${a}-r2`, amount: 10 });
  t.equal(r.status, 201);
  r = await call('POST', requests, { id: `${a}-r2`, amount: 10, expiresInSeconds: config.requestTtlSeconds });
  t.equal(r.status, 201, "naming the api's default is the same body as naming none");
  t.equal(r.headers.get('idempotent-replayed'), 'true');
  t.equal((await call('GET', account(a))).body.reserved, 20, 'two holds, each held once');
});

t.test('respond-async after a conflict: polling the Location answers 409, not the first call\'s outcome', async (t) => {
  const a = uniq('own-async');
  const id = `${a}-d`;
  t.equal((await call('POST', `${account(a)}/deposits`, { id, amount: 100 })).status, 200);
  const other = await call('POST', `${account(a)}/deposits`, { id, amount: 999 }, { prefer: 'respond-async' });
  t.equal(other.status, 202);
  const location = other.headers.get('location')!;
  t.match(location, /\?body=[0-9a-f]{20}$/, 'the Location names the call\'s body');
  const polled = await waitFor(
    async () => {
      const s = await call('GET', location);
      return s.status === 200 && s.body.status === 'pending' ? undefined : s;
    },
    { what: 'the id decided', timeoutMs: 10_000, intervalMs: 50 },
  );
  t.equal(polled.status, 409, 'the poller learns its own call was refused');
  isIdReused(t, polled, 'polled');

  const same = await call('POST', `${account(a)}/deposits`, { id, amount: 100 }, { prefer: 'respond-async' });
  t.equal(same.status, 202);
  const own = await call('GET', same.headers.get('location')!);
  t.equal(own.status, 200, 'a call of the first body polls its decision');
  t.match(own.body, { status: 'applied', amount: 100 });
  t.equal((await call('GET', account(a))).body.balance, 100, 'applied once');
});

t.test('the compatibility timestamp: "yesterday" is a 400 that applies nothing; a valid one is kept as clientTimestamp', async (t) => {
  const a = uniq('own-ts');
  const body = (id: string, timestamp: unknown) => ({ id, type: 'deposit', amount: 5, accountId: a, timestamp });
  let r = await call('POST', '/transaction', body(`${a}-1`, 'yesterday'));
  t.equal(r.status, 400);
  t.match(r.headers.get('content-type'), PROBLEM);
  t.match(r.body, { type: 'urn:teller:problem:validation-error', errors: [{ path: 'body/timestamp' }] });
  r = await call('POST', '/transaction', body(`${a}-1`, '2024-01-01T01:00:00+01:00'));
  t.equal(r.status, 200, 'the same id with a valid timestamp is a first call: nothing was applied before');
  t.notOk(r.body.replayed);
  r = await call('POST', '/transaction', body(`${a}-2`, 1_704_067_200_123));
  t.equal(r.status, 200, 'epoch milliseconds');
  r = await call('POST', '/transaction', body(`${a}-2`, '2030-01-01T00:00:00Z'));
  t.equal(r.status, 200, 'a retry with another timestamp is a replay: the timestamp is not part of the body');
  t.equal(r.body.replayed, true);
  t.equal((await call('GET', `/account/${a}`)).body.balance, 10, 'two deposits applied');

  const docs = await ledgerDocs(a, 2);
  t.strictSame(
    docs.map((d) => [d.id, d.clientTimestamp]),
    [
      [`${a}-1`, '2024-01-01T00:00:00.000Z'],
      [`${a}-2`, '2024-01-01T00:00:00.123Z'],
    ],
    "the ledger keeps each first call's claim, in UTC",
  );
  t.ok(docs.every((d) => Math.abs(d.receivedAt - Date.now()) < 60_000), "receivedAt is the api's clock, not the claim");
});

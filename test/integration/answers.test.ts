// Every answer true: calls a hostile or unlucky client sends, through NGINX
// on the real stack, and what the ledger and the answers must say to them.
import t from 'tap';
import { post, uniq } from '../helpers/http.js';
import { rawRequest } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

const MAX = Number.MAX_SAFE_INTEGER;
const PROBLEM = /^application\/problem\+json/;

t.test('a balance never passes 2^53 - 1: the deposit past it is denied, not rounded', async (t) => {
  const a = uniq('range');
  let r = await v1.deposit(a, { id: `${a}-max`, amount: MAX });
  t.equal(r.status, 200);
  t.equal(r.body.balance, MAX);
  for (const n of [1, 2]) {
    r = await v1.deposit(a, { id: `${a}-one-${n}`, amount: 1 });
    t.equal(r.status, 402, `deposit ${n} of 1 more -> 402`);
    t.match(r.body, { status: 'denied', reason: 'balance_out_of_range', balance: MAX });
  }
  r = await v1.account(a);
  t.equal(r.body.balance, MAX, 'the balance is exact');
  // The statement reads the ledger, whose inserts trail the answers by a few milliseconds.
  const statuses = await waitFor(
    async () => {
      const page = await v1.statement(a);
      return page.body.data.length === 3 ? page.body.data.map((d: { status: string }) => d.status) : undefined;
    },
    { what: 'the three documents in the statement', timeoutMs: 10_000, intervalMs: 50 },
  );
  t.same(statuses, ['denied', 'denied', 'applied'], 'the statement shows the denials');
  // The compatibility route answers the same decision.
  r = await post('/transaction', { id: `${a}-compat`, type: 'deposit', amount: 1, accountId: a, timestamp: new Date().toISOString() });
  t.equal(r.status, 402);
  t.match(r.body, { status: 'denied', reason: 'balance_out_of_range' });
});

t.test('ids and account ids made only of dots are refused, and change nothing', async (t) => {
  const a = uniq('dots');
  for (const id of ['.', '..', '...']) {
    const r = await v1.deposit(a, { id, amount: 5 });
    t.equal(r.status, 400, `id ${id} -> 400`);
    t.match(r.headers.get('content-type'), PROBLEM);
    const keyed = await v1.deposit(a, { amount: 5 }, { 'idempotency-key': id });
    t.equal(keyed.status, 400, `Idempotency-Key ${id} -> 400`);
  }
  t.equal((await v1.account(a)).status, 404, 'nothing was deposited');
  // The account id `.` would be a dot segment: sent raw, so no client normalizes it first.
  for (const account of ['%2E', '%2E%2E']) {
    const reply = await rawRequest(`GET /v1/accounts/${account}/transactions HTTP/1.1`);
    t.equal(reply.status, 400, `account ${account} -> 400`);
    t.match(reply.headers['content-type'], PROBLEM);
  }
  const r = await post('/transaction', { id: `${a}-1`, type: 'deposit', amount: 5, accountId: '..', timestamp: new Date().toISOString() });
  t.equal(r.status, 400, 'the compatibility route refuses the account .. too');
});

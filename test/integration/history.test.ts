// Reads of the past on the real stack, through NGINX (docs/history.md): an
// account as of a time captured between two deposits; a cut taken, then more
// writes, and the account's answer at the cut unchanged while its live balance
// moved; statements filtered by type, status and decision time, paged by
// their Link headers. The ledger follows the answers by a few milliseconds
// and the committed offsets follow the ledger, so each check first waits for
// what it reads to be there.
import t from 'tap';
import { uniq } from '../helpers/http.js';
import { waitFor } from '../helpers/stack.js';
import { call, v1 } from '../helpers/v1.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const asOf = (account: string, time: string) => call('GET', `/v1/accounts/${account}?asOf=${encodeURIComponent(time)}`);

/** Waits until the statement of `account` holds `count` entries: the ledger has them all. */
async function inLedger(account: string, count: number): Promise<{ id: string; type: string; status: string; decidedAt: string }[]> {
  return waitFor(
    async () => {
      const r = await v1.statement(account, '?limit=100');
      return r.status === 200 && r.body.data.length === count ? r.body.data : undefined;
    },
    { what: `${count} entries of ${account} in the ledger`, timeoutMs: 20_000 },
  );
}

/** Every entry of a statement, following its Link headers from `query`. */
async function allPages(account: string, query: string): Promise<string[]> {
  const ids: string[] = [];
  let path: string | undefined = `/v1/accounts/${account}/transactions?${query}`;
  while (path) {
    const r = await call('GET', path);
    if (r.status !== 200) throw new Error(`${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    ids.push(...r.body.data.map((e: { id: string }) => e.id));
    path = /^<([^>]+)>; rel="next"$/.exec(r.headers.get('link') ?? '')?.[1];
  }
  return ids;
}

t.test('as of a time between two deposits: the balance then, from the ledger', async (t) => {
  const a = uniq('hist');
  const first = await v1.deposit(a, { id: uniq('d'), amount: 100 });
  t.equal(first.status, 200);
  // Decided before its answer, by the log clock, which on one machine reads the same wall clock.
  await sleep(5);
  const between = new Date().toISOString();
  await sleep(5);
  const second = await v1.deposit(a, { id: uniq('d'), amount: 50 });
  t.equal(second.status, 200);
  t.ok(Date.parse(first.body.decidedAt) <= Date.parse(between) && Date.parse(between) < Date.parse(second.body.decidedAt), 'the time lies between the two decisions');
  await inLedger(a, 2);

  const then = await asOf(a, between);
  t.equal(then.status, 200, JSON.stringify(then.body));
  t.match(then.body, { accountId: a, balance: 100, reserved: 0, available: 100, hadHistory: true, lastEntry: { transactionId: first.body.id, type: 'deposit', decidedAt: first.body.decidedAt }, asOf: between });
  t.match((await asOf(a, first.body.decidedAt)).body, { balance: 100 }, 'a decision at asOf counts');
  t.match((await asOf(a, second.body.decidedAt)).body, { balance: 150, lastEntry: { transactionId: second.body.id } });
  const before = await asOf(a, new Date(Date.parse(first.body.decidedAt) - 1).toISOString());
  t.equal(before.status, 200);
  t.match(before.body, { balance: 0, reserved: 0, hadHistory: false });
  t.notOk('lastEntry' in before.body, 'no entry before the first');
  t.equal((await v1.account(a)).body.balance, 150, 'the live balance moved on');

  const future = await asOf(a, new Date(Date.now() + 3_600_000).toISOString());
  t.equal(future.status, 400);
  t.match(future.body, { type: 'urn:teller:problem:as-of-in-the-future' });
  const malformed = await asOf(a, 'yesterday');
  t.equal(malformed.status, 400);
  t.match(malformed.headers.get('content-type'), /^application\/problem\+json/);
  t.equal((await asOf(uniq('nobody'), between)).status, 404, 'an account the ledger never saw');
});

t.test('a cut answers the same after more writes, while the live balance moves', async (t) => {
  const a = uniq('cut');
  await v1.deposit(a, { id: uniq('d'), amount: 100 });
  await inLedger(a, 1);
  // The committed offsets follow the inserts: take cuts until one holds the deposit.
  const { cut, atCut } = await waitFor(
    async () => {
      const taken = await call('POST', '/v1/cuts');
      if (taken.status !== 201) throw new Error(`POST /v1/cuts answered ${taken.status}: ${JSON.stringify(taken.body)}`);
      const r = await call('GET', `/v1/cuts/${taken.body.cut}/accounts/${a}`);
      return r.status === 200 && r.body.balance === 100 ? { cut: taken, atCut: r.body } : undefined;
    },
    { what: 'a cut holding the deposit', timeoutMs: 20_000, intervalMs: 500 },
  );
  t.equal(cut.headers.get('location'), `/v1/cuts/${cut.body.cut}`);
  t.match(atCut, { accountId: a, balance: 100, reserved: 0, hadHistory: true, cut: cut.body.cut, partition: Number, cutOffset: Number });
  t.ok(atCut.lastEntry.offset < atCut.cutOffset, "its last entry lies below the cut's offset");
  t.strictSame((await call('GET', `/v1/cuts/${cut.body.cut}`)).body, cut.body, 'the cut reads back as it was taken');

  await v1.deposit(a, { id: uniq('d'), amount: 50 });
  t.equal((await v1.request(a, { id: uniq('r'), amount: 30 })).status, 201);
  await inLedger(a, 3);
  t.match((await v1.account(a)).body, { balance: 150, reserved: 30 }, 'the live account moved');
  t.strictSame((await call('GET', `/v1/cuts/${cut.body.cut}/accounts/${a}`)).body, atCut, 'the answer at the cut did not');
  const later = await waitFor(
    async () => {
      const taken = await call('POST', '/v1/cuts');
      const r = await call('GET', `/v1/cuts/${taken.body.cut}/accounts/${a}`);
      return r.body?.reserved === 30 ? r.body : undefined;
    },
    { what: 'a later cut holding the hold', timeoutMs: 20_000, intervalMs: 500 },
  );
  t.match(later, { balance: 150, reserved: 30, available: 120 }, 'a later cut sees the later writes');
  t.equal((await call('GET', `/v1/cuts/cut_20000101T000000000Z_000000000000/accounts/${a}`)).status, 404, 'an unknown cut');
});

t.test('statements filtered by type, status and decision time, paged by their links', async (t) => {
  const a = uniq('filters');
  for (const amount of [100, 200, 300]) {
    t.equal((await v1.deposit(a, { id: uniq('d'), amount })).status, 200);
    // Apart by a millisecond or more, so the range below has entries on both sides of it.
    await sleep(3);
  }
  const held = uniq('r');
  t.equal((await v1.request(a, { id: held, amount: 50 })).status, 201);
  t.equal((await v1.request(a, { id: uniq('r'), amount: 1_000_000 })).status, 402, 'a request past the funds is denied');
  t.equal((await v1.withdraw(a, { id: uniq('w'), amount: 50, requestId: held })).status, 200);
  t.equal((await v1.cancel(a, uniq('nothing'), { id: uniq('c') })).status, 404, 'a cancel of nothing held');
  const all = await inLedger(a, 7);
  const ids = (keep: (e: (typeof all)[number]) => boolean) => all.filter(keep).map((e) => e.id);

  t.strictSame(await allPages(a, 'limit=1&type=deposit'), ids((e) => e.type === 'deposit'), 'the deposits, newest first');
  t.strictSame(await allPages(a, 'limit=2&status=denied,not_found'), ids((e) => e.status === 'denied' || e.status === 'not_found'), 'the refusals');
  t.strictSame(
    await allPages(a, 'limit=1&type=withdraw_request,withdraw&status=approved,applied'),
    ids((e) => ['withdraw_request', 'withdraw'].includes(e.type) && ['approved', 'applied'].includes(e.status)),
    'the hold and its settlement',
  );
  // Decision times of the entries themselves: from the second oldest (inclusive) to the second newest (exclusive).
  const times = all.map((e) => Date.parse(e.decidedAt));
  const from = times[all.length - 2]!;
  const to = times[1]!;
  t.ok(from < to, 'the range holds entries');
  const query = `limit=2&from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}`;
  t.strictSame(await allPages(a, query), ids((e) => Date.parse(e.decidedAt) >= from && Date.parse(e.decidedAt) < to), 'the range, from inclusive and to exclusive');

  const bad = await v1.statement(a, '?type=deposit,loan');
  t.equal(bad.status, 400);
  t.match(bad.body, { type: 'urn:teller:problem:validation-error' });
  const swapped = await v1.statement(a, `?from=${encodeURIComponent(new Date(to).toISOString())}&to=${encodeURIComponent(new Date(from).toISOString())}`);
  t.equal(swapped.status, 400);
  t.match(swapped.body, { type: 'urn:teller:problem:invalid-time-range' });
});

// The benchmark's workload: a withdrawal follows every approval, on the same
// account and for the same amount; ids are unique; the drain's messages are
// valid log messages.
import t from 'tap';
import { parseMessage } from '../../common/message.js';
import { drainMessage, drainNames } from '../../scripts/benchmark/backlog-drain.js';
import { DEFAULT_FLOW, Flow, isAcknowledged, prng, type FlowTx } from '../../scripts/benchmark/contract-flow.js';

const flow = (seed = 1, accounts = 10_000) => new Flow({ ...DEFAULT_FLOW, accounts, seed, accountPrefix: 'acct', idPrefix: 'run1' });

t.test('a withdrawal of the same amount on the same account follows every approval', async (t) => {
  const f = flow();
  const rand = prng(99);
  const approvals: FlowTx[] = [];
  const settlements: FlowTx[] = [];
  for (let i = 0; i < 20_000; i++) {
    const tx = f.next();
    if (tx.type === 'withdraw') settlements.push(tx);
    // the bank approves about 70% of the requests, denies some, and some answers are 202s or lost
    if (tx.type === 'withdraw_request') {
      const r = rand();
      const status = r < 0.7 ? 201 : r < 0.9 ? 402 : 202;
      if (status === 201) approvals.push(tx);
      f.answered(tx, status);
    } else f.answered(tx, 200);
  }
  settlements.push(...f.drainOwed());
  t.equal(f.owedCount, 0);
  t.equal(settlements.length, approvals.length, 'one withdrawal per approval');
  approvals.forEach((a, i) => {
    const s = settlements[i]!;
    if (s.accountId !== a.accountId || s.amount !== a.amount) t.fail(`settlement ${i} does not match its approval`);
  });
  t.equal(f.counts.approved, approvals.length);
  t.ok(f.counts.denied > 0 && f.counts.undecided > 0);
  t.equal(f.counts.withdraw, settlements.length);
});

t.test('the settlement is the very next call after an approval', async (t) => {
  const f = flow();
  let tx = f.next();
  while (tx.type !== 'withdraw_request') tx = f.next();
  f.answered(tx, 201);
  const next = f.next();
  t.same({ type: next.type, accountId: next.accountId, amount: next.amount }, { type: 'withdraw', accountId: tx.accountId, amount: tx.amount });
  t.not(next.id, tx.id, 'with an id of its own');
  f.answered(next, 200);
  t.equal(f.owedCount, 0);
});

t.test('a denial or a 202 owes nothing; deposits are never settled', async (t) => {
  const f = flow();
  for (let i = 0; i < 200; i++) {
    const tx = f.next();
    f.answered(tx, tx.type === 'withdraw_request' ? (i % 2 ? 402 : 202) : 201);
  }
  t.equal(f.owedCount, 0);
  t.equal(f.counts.withdraw, 0);
});

t.test('ids are unique and valid, accounts are in range, amounts positive integers', async (t) => {
  const f = flow(3, 50);
  const ids = new Set<string>();
  const accounts = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const tx = f.next();
    ids.add(tx.id);
    accounts.add(tx.accountId);
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(tx.id) || !Number.isSafeInteger(tx.amount) || tx.amount < 1) t.fail(`bad call ${JSON.stringify(tx)}`);
    f.answered(tx, 201);
  }
  t.equal(ids.size, 5000);
  t.equal(accounts.size, 50, 'every account is used');
  for (const a of accounts) t.match(a, /^acct-(\d|[1-4]\d)$/);
});

t.test('a flow is deterministic in its seed', async (t) => {
  const a = flow(5);
  const b = flow(5);
  const c = flow(6);
  const seq = (f: Flow) => Array.from({ length: 50 }, () => f.next());
  t.same(seq(a), seq(b));
  t.notSame(seq(flow(5)), seq(c));
  t.equal(flow(1).options.accounts, 10_000);
  t.throws(() => flow(1, 0), /at least one account/);
});

t.test('a deposit-only flow (the accept path)', async (t) => {
  const f = new Flow({ ...DEFAULT_FLOW, depositShare: 1, accountPrefix: 'a', idPrefix: 'x' });
  for (let i = 0; i < 100; i++) t.equal(f.next().type, 'deposit');
});

t.test('acknowledged: 2xx and 402', async (t) => {
  for (const s of [200, 201, 202, 402]) t.ok(isAcknowledged(s), String(s));
  for (const s of [400, 404, 409, 500, 503]) t.notOk(isAcknowledged(s), String(s));
});

t.test('drain messages pass the log schema', async (t) => {
  const rand = prng(7);
  const types = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const m = drainMessage('20261123120000', i, 10_000, 1_700_000_000_000, rand);
    types.add(m.type);
    const parsed = parseMessage(JSON.stringify(m));
    if (!parsed.ok) t.fail(`message ${i} rejected: ${parsed.reason}`);
  }
  t.same([...types].sort(), ['deposit', 'withdraw']);
});

t.test('the drain has names of its own', async (t) => {
  const n = drainNames('20261123120000', 'redis://127.0.0.1:6479', 9);
  t.same(n, {
    topic: 'teller.bench.drain.20261123120000',
    groupId: 'teller-bench-drain-20261123120000',
    mongoDb: 'teller_drain_20261123120000',
    redisUrl: 'redis://127.0.0.1:6479/9',
  });
  t.equal(drainNames('x', 'redis://127.0.0.1:6479/0', 3).redisUrl, 'redis://127.0.0.1:6479/3');
});

t.test('the transfers flow: every call a transfer between two of the accounts, counted by its answer', async (t) => {
  const f = new Flow({ ...DEFAULT_FLOW, accounts: 50, seed: 3, accountPrefix: 'acct', idPrefix: 'run-t', transferShare: 1 });
  const calls = Array.from({ length: 200 }, () => f.next());
  t.ok(calls.every((c) => c.type === 'transfer'), 'only transfers');
  t.ok(calls.every((c) => c.to !== undefined && /^acct-\d+$/.test(c.to) && /^acct-\d+$/.test(c.accountId)), 'between accounts of the flow');
  t.ok(calls.every((c) => c.amount >= 100 && c.amount <= 2_000), 'of 1 to 20 units');
  t.ok(new Set(calls.map((c) => c.to)).size > 10, 'to many accounts');
  f.answered(calls[0]!, 201);
  f.answered(calls[1]!, 200);
  f.answered(calls[2]!, 402);
  f.answered(calls[3]!, 202);
  t.match(f.counts, { transfer: 200, completed: 2, refused: 1, undecided: 1, withdraw: 0 });
  t.equal(f.owedCount, 0, 'a transfer owes no settlement');
});

t.test('a flow without transfers draws the calls it drew before transfers existed', async (t) => {
  const without = flow(7);
  const zero = new Flow({ ...DEFAULT_FLOW, accounts: 10_000, seed: 7, accountPrefix: 'acct', idPrefix: 'run1', transferShare: 0 });
  for (let n = 0; n < 100; n++) t.same(zero.next(), without.next());
});

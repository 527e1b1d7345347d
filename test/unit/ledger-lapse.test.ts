// The per-account rules of docs/ledger-rules.md: holds lapsing, what a document
// records, purity, and balances within what is counted exactly.
import t from 'tap';
import { decide, EMPTY_ACCOUNT, lapseHolds, type Position } from '../../consumer/ledger.js';
import type { TxMessage } from '../../common/types.js';
import { account, hold, MAX, pos } from '../helpers/accounts.js';
import { cancel, deepFreeze, deposit, request, undefinedKeys, withdraw } from '../helpers/tx.js';

t.test('lapseHolds', async (t) => {
  const lpos: Position = { partition: 7, offset: 99, clock: 1_000 };
  t.test('nothing due: the same account object, no docs', async (t) => {
    const a = account(100, [hold('A', 10, 1_001), hold('B', 10)]);
    const r = lapseHolds('acc', a, lpos);
    t.equal(r.account, a, 'identity: nothing to write');
    t.strictSame(r.docs, []);
    t.strictSame(r.lapsed, []);
  });
  t.test('due at exactly the clock, in hold order, one doc each', async (t) => {
    const a = account(100, [hold('A', 10, 1_000), hold('B', 20, 2_000), hold('C', 30, 500)], 3);
    const r = lapseHolds('acc', a, lpos);
    t.strictSame(r.lapsed, [hold('A', 10, 1_000), hold('C', 30, 500)]);
    t.strictSame(r.account, { balance: 100, reserved: 20, updatedAt: 1_000, holds: [hold('B', 20, 2_000)] });
    t.strictSame(r.docs, [
      {
        _id: '7:99:0:A~expired',
        id: 'A~expired',
        accountId: 'acc',
        type: 'expire',
        amount: 10,
        requestId: 'A',
        status: 'applied',
        balanceAfter: 100,
        reservedAfter: 50,
        partition: 7,
        offset: 99,
        receivedAt: 1_000,
        decidedAt: 1_000,
      },
      {
        _id: '7:99:1:C~expired',
        id: 'C~expired',
        accountId: 'acc',
        type: 'expire',
        amount: 30,
        requestId: 'C',
        status: 'applied',
        balanceAfter: 100,
        reservedAfter: 20,
        partition: 7,
        offset: 99,
        receivedAt: 1_000,
        decidedAt: 1_000,
      },
    ]);
  });
  t.test('after holds of other accounts lapsed at the same offset, the ordinal goes on', async (t) => {
    const a = account(100, [hold('A', 10, 1_000), hold('A', 20, 1_000)]);
    const r = lapseHolds('acc', a, lpos, 2);
    t.strictSame(r.docs.map((d) => [d._id, d.id, d.requestId, d.amount]), [
      ['7:99:2:A~expired', 'A~expired', 'A', 10],
      ['7:99:3:A~expired', 'A~expired', 'A', 20],
    ]);
  });
  t.test('a partially consumed hold lapses with what is left of it', async (t) => {
    const r = lapseHolds('acc', account(-5, [hold('A', 4, 10)]), lpos);
    t.equal(r.docs[0]?.amount, 4);
    t.equal(r.docs[0]?.balanceAfter, -5);
    t.equal(r.account.reserved, 0);
  });
});

t.test("the client's claimed time lands on the document as it came, and decides nothing", async (t) => {
  const claimed = '1999-12-31T23:59:59.000Z';
  const plain = decide(account(0), deposit('d', 'acc', 5), pos);
  const withClaim = decide(account(0), deposit('d', 'acc', 5, { clientTimestamp: claimed }), pos);
  t.equal(withClaim.doc.clientTimestamp, claimed);
  t.strictSame({ ...withClaim.doc, clientTimestamp: undefined }, { ...plain.doc, clientTimestamp: undefined }, 'the rest of the document is the same');
  t.strictSame(withClaim.outcome, plain.outcome, 'the outcome is the same');
  t.strictSame(withClaim.account, plain.account, 'so is the account');
  t.equal(withClaim.doc.receivedAt, 1_000, 'receivedAt is still the api\'s');
  t.notOk('clientTimestamp' in plain.doc, 'no claim, no field');
});

t.test("a request's outcome and document keep the time to live its message carried, to compare repeats with", async (t) => {
  const rich = account(100);
  t.equal(decide(rich, request('r', 'acc', 10, { expiresInSeconds: 60 }), pos).outcome.expiresInSeconds, 60, 'approved');
  t.equal(decide(rich, request('r', 'acc', 1_000, { expiresInSeconds: 60 }), pos).outcome.expiresInSeconds, 60, 'denied');
  t.equal(decide(rich, request('r', 'acc', 10), pos).outcome.expiresInSeconds, undefined, 'none carried');
  // The ledger is where a repeat's first outcome is read back from once memory lets it go.
  t.equal(decide(rich, request('r', 'acc', 10, { expiresInSeconds: 60 }), pos).doc.expiresInSeconds, 60, 'the ledger document carries it');
  t.notOk('expiresInSeconds' in decide(rich, request('r', 'acc', 10), pos).doc, 'none carried, no field');
});

t.test('a decision document records the log clock it was decided at, beside the api\'s receivedAt', async (t) => {
  const d = decide(account(100), deposit('d', 'acc', 10, { receivedAt: 1_000 }), { ...pos, clock: 9_000 });
  t.equal(d.doc.decidedAt, 9_000, 'the clock');
  t.equal(d.doc.receivedAt, 1_000, 'the api\'s time, unchanged');
});

t.test('purity: inputs are never mutated, equal inputs give equal results', async (t) => {
  const a = account(100, [hold('A', 30, 900), hold('B', 50)]);
  const before = JSON.stringify(a);
  const msgs: TxMessage[] = [
    deposit('d', 'acc', 5),
    request('r-ok', 'acc', 20, { expiresAt: 3_000 }),
    request('r-no', 'acc', 21),
    withdraw('w', 'acc', 40),
    withdraw('w2', 'acc', 400),
    withdraw('w3', 'acc', 1, { requestId: 'B' }),
    withdraw('w4', 'acc', 1, { requestId: 'zz' }),
    cancel('c', 'acc', 'A'),
    cancel('c2', 'acc', 'zz'),
  ].map(deepFreeze);
  for (const m of msgs) {
    const d1 = decide(a, m, pos);
    const d2 = decide(a, m, pos);
    t.strictSame(d1, d2, `${m.id}: deterministic`);
    t.not(d1.account, a, `${m.id}: a new account object`);
    t.strictSame(undefinedKeys(d1.outcome), [], `${m.id}: no undefined keys in the outcome`);
    t.strictSame(undefinedKeys(d1.doc), [], `${m.id}: no undefined keys in the doc`);
    t.equal(d1.account.reserved, d1.account.holds.reduce((s, h) => s + h.amount, 0), `${m.id}: reserved = sum of holds`);
    t.equal(d1.account.updatedAt, pos.clock);
    t.equal(d1.outcome.decidedAt, pos.clock);
  }
  const l = lapseHolds('acc', a, { ...pos, clock: 1_000 });
  t.equal(l.lapsed.length, 1);
  t.equal(JSON.stringify(a), before, 'the frozen account is unchanged');
});

t.test('balances stay within what is counted exactly (2^53 - 1 either way)', async (t) => {
  t.test('a deposit that would pass it is denied and changes nothing', async (t) => {
    const full = account(MAX);
    const d = decide(full, deposit('d-over', 'acc', 1), pos);
    t.match(d.outcome, { status: 'denied', reason: 'balance_out_of_range', balance: MAX });
    t.match(d.doc, { status: 'denied', reason: 'balance_out_of_range', balanceAfter: MAX, amount: 1 });
    t.equal(d.account.balance, MAX);
    t.equal(d.account.holds, full.holds, 'holds untouched');
  });
  t.test('a deposit that reaches it exactly is applied', async (t) => {
    const d = decide(account(MAX - 2), deposit('d-edge', 'acc', 2), pos);
    t.match(d.outcome, { status: 'applied', balance: MAX });
  });
  t.test('the case that lost a cent: 2^53 - 1, then 1, then 1', async (t) => {
    const first = decide(EMPTY_ACCOUNT, deposit('a', 'acc', MAX), pos);
    const second = decide(first.account, deposit('b', 'acc', 1), pos);
    const third = decide(second.account, deposit('c', 'acc', 1), pos);
    t.same([second.outcome.status, third.outcome.status], ['denied', 'denied']);
    t.equal(third.account.balance, MAX, 'no balance that a double rounds');
  });
  t.test('a withdrawal posts past the funds, but not past -(2^53 - 1)', async (t) => {
    const edge = decide(account(-MAX + 5), withdraw('w-edge', 'acc', 5), pos);
    t.match(edge.outcome, { status: 'applied', balance: -MAX, overdraft: true });
    const over = decide(account(-MAX + 5), withdraw('w-over', 'acc', 6), pos);
    t.match(over.outcome, { status: 'denied', reason: 'balance_out_of_range', balance: -MAX + 5 });
    t.notOk(over.outcome.overdraft, 'nothing posted, so no overdraft');
  });
});

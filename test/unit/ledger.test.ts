// The per-account rules of docs/ledger-rules.md, one branch at a time: ids,
// documents, deposits, withdrawal requests, withdrawals and cancels.
import t from 'tap';
import { decide, decisionDocId, EMPTY_ACCOUNT, expiryDocId, ledgerId } from '../../consumer/ledger.js';
import type { TxMessage } from '../../common/types.js';
import { account, hold, MAX, pos } from '../helpers/accounts.js';
import { cancel, deposit, request, withdraw } from '../helpers/tx.js';

t.test('ledgerId (the identity of a transaction) is accountId/id', async (t) => {
  t.equal(ledgerId('acc-1', 'tx.9'), 'acc-1/tx.9');
  t.equal(ledgerId('__proto__', 'constructor'), '__proto__/constructor');
});

t.test('document _ids are log positions, not transaction ids', async (t) => {
  t.equal(decisionDocId({ partition: 3, offset: 42, clock: 1 }), '3:42');
  t.equal(decisionDocId({ partition: 0, offset: 0, clock: 9 }), '0:0', 'the clock is not part of it');
  t.equal(expiryDocId({ partition: 3, offset: 42, clock: 1 }, 0, 'r.1'), '3:42:0:r.1~expired');
  t.not(expiryDocId(pos, 0, 'r'), expiryDocId(pos, 1, 'r'), 'two holds with one id lapsing at one offset');
  t.not(expiryDocId(pos, 0, 'r'), decisionDocId(pos), 'nor the decision at that offset');
  t.not(decisionDocId({ partition: 1, offset: 23, clock: 0 }), decisionDocId({ partition: 12, offset: 3, clock: 0 }));
  const d = decide(EMPTY_ACCOUNT, deposit('same', 'acc', 1), pos);
  const again = decide(d.account, deposit('same', 'acc', 1), { ...pos, offset: 43 });
  t.not(again.doc._id, d.doc._id, 'one id decided at two offsets (after the id window): two documents');
});

t.test('EMPTY_ACCOUNT is a frozen zero account', async (t) => {
  t.strictSame(EMPTY_ACCOUNT, { balance: 0, reserved: 0, updatedAt: 0, holds: [] });
  t.ok(Object.isFrozen(EMPTY_ACCOUNT));
  t.ok(Object.isFrozen(EMPTY_ACCOUNT.holds));
});

t.test('deposit', async (t) => {
  t.test('on an unknown account: balance = amount, full outcome and doc', async (t) => {
    const msg = deposit('d1', 'acc', 100, { receivedAt: 4_000 });
    const d = decide(EMPTY_ACCOUNT, msg, pos);
    t.strictSame(d.account, { balance: 100, reserved: 0, updatedAt: 5_000, holds: [] });
    t.strictSame(d.outcome, {
      id: 'd1',
      accountId: 'acc',
      type: 'deposit',
      amount: 100,
      status: 'applied',
      balance: 100,
      reserved: 0,
      decidedAt: 5_000,
    });
    t.strictSame(d.doc, {
      _id: '3:42',
      id: 'd1',
      accountId: 'acc',
      type: 'deposit',
      amount: 100,
      status: 'applied',
      balanceAfter: 100,
      reservedAfter: 0,
      partition: 3,
      offset: 42,
      receivedAt: 4_000,
      decidedAt: 5_000,
    });
  });
  t.test('adds to a balance, keeps holds and reserved', async (t) => {
    const a = account(70, [hold('r1', 30)]);
    const d = decide(a, deposit('d2', 'acc', 25), pos);
    t.equal(d.account.balance, 95);
    t.equal(d.account.reserved, 30);
    t.strictSame(d.account.holds, [hold('r1', 30)]);
    t.equal(d.outcome.status, 'applied');
  });
  t.test('onto a negative balance', async (t) => {
    const d = decide(account(-100), deposit('d3', 'acc', 40), pos);
    t.equal(d.account.balance, -60);
    t.notOk('overdraft' in d.doc, 'a deposit is never flagged');
  });
  t.test('the largest safe amount', async (t) => {
    const d = decide(EMPTY_ACCOUNT, deposit('d4', 'acc', MAX), pos);
    t.equal(d.account.balance, MAX);
    t.equal(d.doc.amount, MAX);
  });
});

t.test('withdrawal request: approved iff available >= amount', async (t) => {
  t.test('approved below available: hold appended, reserved grows', async (t) => {
    const a = account(100, [hold('r0', 20)]);
    const d = decide(a, request('r1', 'acc', 30, { expiresAt: 9_000 }), pos);
    t.equal(d.outcome.status, 'approved');
    t.notOk('reason' in d.outcome);
    t.equal(d.account.balance, 100, 'a hold does not move the balance');
    t.equal(d.account.reserved, 50);
    t.strictSame(d.account.holds, [hold('r0', 20), hold('r1', 30, 9_000)], 'newest last');
    t.equal(d.outcome.balance, 100);
    t.equal(d.outcome.reserved, 50);
    t.equal(d.doc.status, 'approved');
    t.equal(d.doc.reservedAfter, 50);
    t.equal(d.doc.type, 'withdraw_request');
  });
  t.test('boundary: amount equal to available is approved', async (t) => {
    const d = decide(account(100, [hold('r0', 40)]), request('r1', 'acc', 60), pos);
    t.equal(d.outcome.status, 'approved');
    t.equal(d.account.reserved, 100);
    t.equal(d.account.balance - d.account.reserved, 0, 'available exactly zero');
  });
  t.test('one cent over available is denied (insufficient_funds), nothing held', async (t) => {
    const a = account(100, [hold('r0', 40)]);
    const d = decide(a, request('r1', 'acc', 61), pos);
    t.equal(d.outcome.status, 'denied');
    t.equal(d.outcome.reason, 'insufficient_funds');
    t.equal(d.doc.status, 'denied');
    t.equal(d.doc.reason, 'insufficient_funds');
    t.equal(d.doc.amount, 61);
    t.equal(d.account.balance, 100);
    t.equal(d.account.reserved, 40);
    t.strictSame(d.account.holds, [hold('r0', 40)]);
  });
  t.test('reserved counts against the balance', async (t) => {
    t.equal(decide(account(100, [hold('a', 100)]), request('r', 'acc', 1), pos).outcome.status, 'denied');
  });
  t.test('unknown account and negative balance: denied', async (t) => {
    t.equal(decide(EMPTY_ACCOUNT, request('r', 'acc', 1), pos).outcome.status, 'denied');
    t.equal(decide(account(-5), request('r', 'acc', 1), pos).outcome.status, 'denied');
  });
  t.test('without expiresAt the hold never lapses (MAX_SAFE_INTEGER)', async (t) => {
    const d = decide(account(10), request('r', 'acc', 10), pos);
    t.strictSame(d.account.holds, [hold('r', 10, MAX)]);
  });
});

t.test('withdrawal without requestId', async (t) => {
  t.test('always posts; releases reserved oldest hold first, partially', async (t) => {
    const a = account(200, [hold('A', 30), hold('B', 50), hold('C', 20)]);
    const d = decide(a, withdraw('w', 'acc', 60), pos);
    t.equal(d.outcome.status, 'applied');
    t.equal(d.account.balance, 140);
    t.equal(d.account.reserved, 40, 'reserved -= min(reserved, amount)');
    t.strictSame(d.account.holds, [hold('B', 20), hold('C', 20)], 'A consumed, B partially, C untouched');
    t.notOk('overdraft' in d.outcome);
    t.notOk('reason' in d.outcome);
    t.strictSame([d.doc.balanceAfter, d.doc.reservedAfter], [140, 40]);
  });
  t.test('amount exactly the oldest hold removes it (no zero hold left)', async (t) => {
    const d = decide(account(200, [hold('A', 30), hold('B', 50)]), withdraw('w', 'acc', 30), pos);
    t.strictSame(d.account.holds, [hold('B', 50)]);
    t.equal(d.account.reserved, 50);
  });
  t.test('amount above reserved clears every hold; reserved 0', async (t) => {
    const d = decide(account(200, [hold('A', 30), hold('B', 50)]), withdraw('w', 'acc', 120), pos);
    t.strictSame(d.account.holds, []);
    t.equal(d.account.reserved, 0);
    t.equal(d.account.balance, 80);
  });
  t.test('no holds: reserved stays 0', async (t) => {
    const d = decide(account(100), withdraw('w', 'acc', 60), pos);
    t.strictSame([d.account.balance, d.account.reserved], [40, 0]);
  });
  t.test('to exactly zero: not an overdraft', async (t) => {
    const d = decide(account(100), withdraw('w', 'acc', 100), pos);
    t.equal(d.account.balance, 0);
    t.notOk('overdraft' in d.doc);
    t.notOk('overdraft' in d.outcome);
  });
  t.test('one cent below zero: posts and is flagged overdraft', async (t) => {
    const d = decide(account(100), withdraw('w', 'acc', 101), pos);
    t.equal(d.account.balance, -1);
    t.equal(d.outcome.status, 'applied');
    t.equal(d.outcome.overdraft, true);
    t.equal(d.doc.overdraft, true);
    t.equal(d.doc.balanceAfter, -1);
  });
  t.test('on an unknown account: posts, negative, overdraft', async (t) => {
    const d = decide(EMPTY_ACCOUNT, withdraw('w', 'acc', 100), pos);
    t.strictSame(d.account, { balance: -100, reserved: 0, updatedAt: 5_000, holds: [] });
    t.equal(d.doc.overdraft, true);
  });
  t.test('already negative: further withdrawals are flagged too', async (t) => {
    const d = decide(account(-10), withdraw('w', 'acc', 1), pos);
    t.equal(d.account.balance, -11);
    t.equal(d.doc.overdraft, true);
  });
});

t.test('withdrawal with requestId settles exactly that hold', async (t) => {
  const holds = [hold('A', 30), hold('B', 50, 8_000), hold('C', 20)];
  t.test('smaller amount than the hold: the whole hold is released', async (t) => {
    const d = decide(account(200, holds), withdraw('w', 'acc', 10, { requestId: 'B' }), pos);
    t.equal(d.outcome.status, 'applied');
    t.notOk('reason' in d.outcome);
    t.equal(d.account.balance, 190);
    t.equal(d.account.reserved, 50);
    t.strictSame(d.account.holds, [hold('A', 30), hold('C', 20)], 'other holds untouched, order kept');
    t.equal(d.doc.requestId, 'B');
    t.equal(d.outcome.requestId, 'B');
  });
  t.test('larger amount than the hold: no other hold is consumed', async (t) => {
    const d = decide(account(200, holds), withdraw('w', 'acc', 90, { requestId: 'B' }), pos);
    t.equal(d.account.balance, 110);
    t.equal(d.account.reserved, 50);
    t.strictSame(d.account.holds, [hold('A', 30), hold('C', 20)]);
  });
  t.test('equal amount', async (t) => {
    const d = decide(account(100, [hold('A', 100)]), withdraw('w', 'acc', 100, { requestId: 'A' }), pos);
    t.strictSame([d.account.balance, d.account.reserved, d.account.holds.length], [0, 0, 0]);
    t.notOk('overdraft' in d.doc);
  });
  t.test('a partially consumed hold: what is left of it is released', async (t) => {
    const d = decide(account(200, [hold('A', 5), hold('B', 50)]), withdraw('w', 'acc', 50, { requestId: 'A' }), pos);
    t.strictSame(d.account.holds, [hold('B', 50)]);
    t.equal(d.account.reserved, 50);
  });
  t.test('unknown requestId: posts, reason request_not_held, nothing released', async (t) => {
    const a = account(200, holds);
    const d = decide(a, withdraw('w', 'acc', 60, { requestId: 'nope' }), pos);
    t.equal(d.outcome.status, 'applied');
    t.equal(d.outcome.reason, 'request_not_held');
    t.equal(d.doc.reason, 'request_not_held');
    t.equal(d.account.balance, 140);
    t.equal(d.account.reserved, 100, 'no hold consumed, not even the oldest');
    t.strictSame(d.account.holds, holds);
  });
  t.test('unknown requestId can overdraw', async (t) => {
    const d = decide(account(10), withdraw('w', 'acc', 60, { requestId: 'nope' }), pos);
    t.equal(d.account.balance, -50);
    t.equal(d.doc.overdraft, true);
    t.equal(d.doc.reason, 'request_not_held');
  });
  t.test('capture above the hold into the negative is flagged', async (t) => {
    const d = decide(account(50, [hold('A', 50)]), withdraw('w', 'acc', 80, { requestId: 'A' }), pos);
    t.equal(d.account.balance, -30);
    t.equal(d.account.reserved, 0);
    t.equal(d.doc.overdraft, true);
  });
});

t.test('cancel', async (t) => {
  t.test('of a held request releases it', async (t) => {
    const a = account(100, [hold('A', 30), hold('B', 50)]);
    const d = decide(a, cancel('c', 'acc', 'A'), pos);
    t.equal(d.outcome.status, 'applied');
    t.notOk('amount' in d.outcome, 'a cancel has no amount');
    t.equal(d.outcome.requestId, 'A');
    t.equal(d.account.balance, 100);
    t.equal(d.account.reserved, 50);
    t.strictSame(d.account.holds, [hold('B', 50)]);
    t.strictSame(
      { type: d.doc.type, amount: d.doc.amount, requestId: d.doc.requestId, status: d.doc.status, reservedAfter: d.doc.reservedAfter },
      { type: 'cancel', amount: 0, requestId: 'A', status: 'applied', reservedAfter: 50 },
    );
  });
  t.test('of a partially consumed hold releases what is left', async (t) => {
    const d = decide(account(100, [hold('A', 7)]), cancel('c', 'acc', 'A'), pos);
    t.strictSame([d.account.reserved, d.account.holds.length], [0, 0]);
  });
  t.test('of a request not held: not_found, nothing changes', async (t) => {
    const a = account(100, [hold('A', 30)]);
    const d = decide(a, cancel('c', 'acc', 'Z'), pos);
    t.equal(d.outcome.status, 'not_found');
    t.equal(d.outcome.reason, 'request_not_held');
    t.equal(d.doc.status, 'not_found');
    t.strictSame([d.account.balance, d.account.reserved], [100, 30]);
    t.strictSame(d.account.holds, [hold('A', 30)]);
  });
  t.test('on an unknown account: not_found', async (t) => {
    t.equal(decide(EMPTY_ACCOUNT, cancel('c', 'acc', 'A'), pos).outcome.status, 'not_found');
  });
});

t.test('a message without amount (other than cancel) is a bug upstream: throws', async (t) => {
  const bad = { v: 1, id: 'x', type: 'deposit', accountId: 'acc', receivedAt: 1 } as TxMessage;
  t.throws(() => decide(EMPTY_ACCOUNT, bad, pos), TypeError);
});

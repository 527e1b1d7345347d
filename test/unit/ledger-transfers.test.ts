// The rules of a transfer's legs on their own accounts (docs/transfers.md,
// The legs): the debit, the credit and the return, each decided by
// consumer/ledger.ts `decide`.
import t from 'tap';
import { decide, EMPTY_ACCOUNT } from '../../consumer/ledger.js';
import { account, configured, hold, MAX, pos } from '../helpers/accounts.js';
import { transfer, transferCredit, transferReturn } from '../helpers/tx.js';

const labels = { reference: 'rent march', metadata: { flat: '4b' } };

t.test('the debit: applied, its outcome and document', async (t) => {
  const a = account(100, [hold('r0', 30)]);
  const d = decide(a, transfer('tr1', 'acc-a', 'acc-b', 70, { receivedAt: 4_000, ...labels }), pos);
  t.strictSame(d.account, { balance: 30, reserved: 30, updatedAt: 5_000, holds: [hold('r0', 30)] }, 'balance -= amount, the holds untouched');
  t.strictSame(d.outcome, {
    id: 'tr1',
    accountId: 'acc-a',
    type: 'transfer',
    amount: 70,
    status: 'applied',
    balance: 30,
    reserved: 30,
    counterparty: 'acc-b',
    ...labels,
    decidedAt: 5_000,
  });
  t.strictSame(d.doc, {
    _id: '3:42',
    id: 'tr1',
    accountId: 'acc-a',
    type: 'transfer',
    amount: 70,
    status: 'applied',
    balanceAfter: 30,
    reservedAfter: 30,
    partition: 3,
    offset: 42,
    receivedAt: 4_000,
    decidedAt: 5_000,
    counterparty: 'acc-b',
    ...labels,
  });
});

t.test('the debit against the available funds', async (t) => {
  const a = account(100, [hold('r0', 30)]);
  t.equal(decide(a, transfer('tr', 'acc', 'b', 70), pos).outcome.status, 'applied', 'available exactly the amount');
  const over = decide(a, transfer('tr', 'acc', 'b', 71), pos);
  t.strictSame([over.outcome.status, over.outcome.reason, over.doc.reason], ['denied', 'insufficient_funds', 'insufficient_funds']);
  t.strictSame(over.account, { ...a, updatedAt: 5_000 }, 'a denied debit changes nothing');
  t.equal(over.outcome.counterparty, 'b', 'a denied debit still names its counterparty');
  const limited = configured(10, { overdraftLimit: 50 }, [hold('r0', 20)]);
  const into = decide(limited, transfer('tr', 'acc', 'b', 40), pos);
  t.strictSame([into.outcome.status, into.account.balance, into.account.balance - into.account.reserved], ['applied', -30, -50], 'into the overdraft, no further than the limit');
  t.notOk('overdraft' in into.outcome, 'a debit within the limit is not flagged');
  t.equal(decide(limited, transfer('tr', 'acc', 'b', 41), pos).outcome.reason, 'insufficient_funds');
  t.equal(decide(EMPTY_ACCOUNT, transfer('tr', 'acc', 'b', 1), pos).outcome.reason, 'insufficient_funds', 'from an unknown account');
  const edge = decide(configured(0, { overdraftLimit: MAX }), transfer('tr', 'acc', 'b', MAX), pos);
  t.strictSame([edge.outcome.status, edge.account.balance], ['applied', -MAX], 'a limit at the edge takes the balance to the edge, not past it');
});

t.test('the debit on a frozen or closed account: refused before the funds', async (t) => {
  for (const [status, reason] of [
    ['frozen', 'account_frozen'],
    ['closed', 'account_closed'],
  ] as const) {
    const a = configured(1_000, { status, overdraftLimit: 100 });
    for (const amount of [1, 5_000]) {
      const d = decide(a, transfer('tr', 'acc', 'b', amount), pos);
      t.strictSame([d.outcome.status, d.outcome.reason], ['denied', reason], `${status}, ${amount}`);
      t.strictSame(d.account, { ...a, updatedAt: 5_000 });
    }
  }
});

t.test('the credit: applied, its outcome and document', async (t) => {
  const msg = transferCredit('tr1', 'acc-a', 'acc-b', 70, 4_500, labels);
  const d = decide(account(5, [hold('r', 5)]), msg, pos);
  t.strictSame(d.account, { balance: 75, reserved: 5, updatedAt: 5_000, holds: [hold('r', 5)] });
  t.strictSame(d.outcome, {
    id: 'tr1~credit~acc-a~4500',
    accountId: 'acc-b',
    type: 'transfer_credit',
    amount: 70,
    status: 'applied',
    balance: 75,
    reserved: 5,
    counterparty: 'acc-a',
    transferId: 'tr1',
    ...labels,
    decidedAt: 5_000,
  });
  t.strictSame(
    [d.doc.type, d.doc.amount, d.doc.counterparty, d.doc.transferId, d.doc.reference, d.doc.metadata, d.doc.receivedAt],
    ['transfer_credit', 70, 'acc-a', 'tr1', labels.reference, labels.metadata, 4_500],
  );
  t.equal(decide(EMPTY_ACCOUNT, msg, pos).account.balance, 70, 'onto an unknown account');
  t.equal(decide(configured(-20, { status: 'frozen' }), msg, pos).account.balance, 50, 'a frozen account takes credits');
});

t.test('the credit refused: a closed account, or past the exact range', async (t) => {
  const msg = transferCredit('tr1', 'acc-a', 'acc-b', 70, 4_500);
  const closed = configured(0, { status: 'closed' });
  const d = decide(closed, msg, pos);
  t.strictSame([d.outcome.status, d.outcome.reason, d.doc.reason], ['denied', 'account_closed', 'account_closed']);
  t.strictSame(d.account, { ...closed, updatedAt: 5_000 });
  const edge = decide(account(MAX - 69), msg, pos);
  t.strictSame([edge.outcome.status, edge.outcome.reason, edge.account.balance], ['denied', 'balance_out_of_range', MAX - 69]);
  t.equal(decide(account(MAX - 70), msg, pos).account.balance, MAX, 'up to the edge exactly');
  t.equal(decide(configured(MAX, { status: 'closed' }), msg, pos).outcome.reason, 'account_closed', 'the status before the range');
});

t.test('the return: always applied, whatever the account', async (t) => {
  const msg = transferReturn('tr1', 'acc-a', 'acc-b', 70, 4_500, labels);
  for (const [what, a] of [
    ['open', account(10)],
    ['frozen', configured(10, { status: 'frozen' })],
    ['closed', configured(10, { status: 'closed' })],
    ['closed and empty', configured(0, { status: 'closed' })],
    ['unknown', EMPTY_ACCOUNT],
  ] as const) {
    const d = decide(a, msg, pos);
    t.strictSame([d.outcome.status, d.outcome.reason, d.account.balance - a.balance, d.account.status], ['applied', undefined, 70, a.status], what);
  }
  const d = decide(account(10), msg, pos);
  t.strictSame([d.outcome.counterparty, d.outcome.transferId, d.outcome.reference, d.doc.transferId, d.doc.counterparty], ['acc-b', 'tr1', labels.reference, 'tr1', 'acc-b']);
});

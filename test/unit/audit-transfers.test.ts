// The audit's books of transfers: each kind of broken transfer is named, and
// the money between the legs is counted in total conservation.
import t from 'tap';
import type { LedgerDoc } from '../../common/types.js';
import { auditLedger, checkInvariants } from '../../scripts/operations/audit-checks.js';
import { debitKeyOfLeg } from '../../scripts/operations/audit-transfers.js';

const DEBITED_AT = 5_000;
let offset = 0;

function doc(accountId: string, id: string, type: LedgerDoc['type'], amount: number, balanceAfter: number, extra: Partial<LedgerDoc> = {}): LedgerDoc {
  const at = offset++;
  return { _id: `0:${at}`, id, accountId, type, amount, status: 'applied', balanceAfter, reservedAfter: 0, partition: 0, offset: at, receivedAt: 1, decidedAt: at, ...extra };
}

const debit = (from: string, to: string, id: string, amount: number, balanceAfter: number, extra: Partial<LedgerDoc> = {}) =>
  doc(from, id, 'transfer', amount, balanceAfter, { counterparty: to, decidedAt: DEBITED_AT, ...extra });
const credit = (from: string, to: string, id: string, amount: number, balanceAfter: number, extra: Partial<LedgerDoc> = {}) =>
  doc(to, `${id}~credit~${from}~${DEBITED_AT}`, 'transfer_credit', amount, balanceAfter, { counterparty: from, transferId: id, ...extra });
const refund = (from: string, to: string, id: string, amount: number, balanceAfter: number) =>
  doc(from, `${id}~return~${DEBITED_AT}`, 'transfer_return', amount, balanceAfter, { counterparty: to, transferId: id });

function funded(): LedgerDoc[] {
  offset = 0;
  return [doc('alice', 'd1', 'deposit', 100, 100), doc('bob', 'd2', 'deposit', 10, 10)];
}

const checks = (docs: LedgerDoc[]) => checkInvariants(docs).map((v) => v.check);

t.test('a completed transfer and a returned one pass, with nothing in flight', async (t) => {
  const docs = [
    ...funded(),
    debit('alice', 'bob', 't1', 30, 70),
    credit('alice', 'bob', 't1', 30, 40),
    debit('alice', 'carol', 't2', 20, 50),
    credit('alice', 'carol', 't2', 20, 0, { status: 'denied', reason: 'account_closed' }),
    refund('alice', 'carol', 't2', 20, 70),
  ];
  const { violations, totals } = auditLedger(docs);
  t.same(violations, []);
  t.equal(totals.inFlight, 0n);
  t.equal(totals.balances, 110n);
});

t.test('a debit whose credit is not decided yet is money in flight, and conservation counts it', async (t) => {
  const docs = [...funded(), debit('alice', 'bob', 't1', 30, 70)];
  const { violations, totals } = auditLedger(docs);
  t.same(violations, []);
  t.equal(totals.inFlight, 30n);
  t.equal(totals.balances + totals.inFlight, totals.deposited - totals.withdrawn);
});

t.test('each broken transfer is named', async (t) => {
  t.same(
    checks([...funded(), debit('alice', 'bob', 't1', 30, 70), credit('alice', 'bob', 't1', 30, 40), credit('alice', 'bob', 't1', 30, 70)]).sort(),
    ['each-id-once', 'total-conservation', 'transfer-credited-once'],
    'a second credit: the id twice, money created, and the transfer credited twice',
  );
  t.match(checks([...funded(), credit('alice', 'bob', 't1', 30, 40)]), ['transfer-leg-without-debit'], 'money credited out of nothing');
  t.match(checks([...funded(), debit('alice', 'bob', 't1', 30, 70), credit('alice', 'bob', 't1', 31, 41)]), ['transfer-leg-amount']);
  t.match(checks([...funded(), debit('alice', 'bob', 't1', 30, 70), credit('alice', 'carol', 't1', 30, 30)]), ['transfer-credit-account']);
  t.match(
    checks([...funded(), debit('alice', 'bob', 't1', 30, 70), credit('alice', 'bob', 't1', 30, 40), refund('alice', 'bob', 't1', 30, 100)]),
    ['transfer-return-only-after-refusal'],
    'a return after an applied credit creates money',
  );
  const denied = debit('alice', 'bob', 't1', 30, 100, { status: 'denied', reason: 'insufficient_funds' });
  t.match(checks([...funded(), denied, credit('alice', 'bob', 't1', 30, 40)]), ['transfer-leg-without-debit'], 'a denied debit has no credit');
});

t.test('a debit that takes the balance below the limit its settings allow is flagged', async (t) => {
  const limited = [...funded(), doc('alice', 's1', 'account_settings', 0, 100, { overdraftLimit: 50 })];
  t.same(checks([...limited, debit('alice', 'bob', 't1', 150, -50), credit('alice', 'bob', 't1', 150, 160)]), [], 'within the limit');
  t.match(checks([...limited, debit('alice', 'bob', 't1', 151, -51), credit('alice', 'bob', 't1', 151, 161)]), ['no-approval-beyond-available']);
  t.match(checks([...funded(), debit('alice', 'bob', 't1', 101, -1), credit('alice', 'bob', 't1', 101, 111)]), ['no-approval-beyond-available'], 'no limit: zero');
});

t.test('a withdrawal is flagged overdraft only past the limit', async (t) => {
  const limited = [...funded(), doc('alice', 's1', 'account_settings', 0, 100, { overdraftLimit: 50 })];
  t.same(checks([...limited, doc('alice', 'w1', 'withdraw', 140, -40)]), [], 'within the limit, not an overdraft');
  t.same(checks([...limited, doc('alice', 'w1', 'withdraw', 160, -60, { overdraft: true })]), []);
  t.match(checks([...limited, doc('alice', 'w1', 'withdraw', 140, -40, { overdraft: true })]), ['overdraft-flag-correct']);
});

t.test('the debit a leg names is read from its id', async (t) => {
  t.equal(debitKeyOfLeg({ id: 't1~credit~alice~5000', type: 'transfer_credit', accountId: 'bob' }), 'alice/t1/5000');
  t.equal(debitKeyOfLeg({ id: 't1~return~5000', type: 'transfer_return', accountId: 'alice' }), 'alice/t1/5000');
  t.equal(debitKeyOfLeg({ id: 't1~credit~alice', type: 'transfer_credit', accountId: 'bob' }), undefined);
});

t.test('a credit in a partition walked before its debit still finds it', async (t) => {
  offset = 0;
  const docs = [doc('alice', 'd1', 'deposit', 100, 100, { partition: 3 }), debit('alice', 'bob', 't1', 30, 70, { partition: 3 }), credit('alice', 'bob', 't1', 30, 30, { partition: 0 })];
  t.same(checkInvariants(docs), []);
});

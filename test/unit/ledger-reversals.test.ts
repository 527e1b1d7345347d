// The rule of a reversal (consumer/ledger-reversals.ts, docs/transfers.md
// Reversals), against the original as the partition remembers it: what it
// undoes, how much, what refuses it and why, and the credit back that a
// reversed transfer credit mints (consumer/transfer-legs.ts).
import t from 'tap';
import { decide, type Account, type Position } from '../../consumer/ledger.js';
import { leftToReverse } from '../../consumer/ledger-reversals.js';
import { nextLeg } from '../../consumer/transfer-legs.js';
import { MAX_BALANCE } from '../../consumer/ledger-decision.js';
import type { Outcome, TxMessage, TxType } from '../../common/types.js';
import { deepFreeze, deposit, reversal, transferCredit, withdraw } from '../helpers/tx.js';

const POS: Position = { partition: 2, offset: 40, clock: 9_000 };
const account = (balance: number, more: Partial<Account> = {}): Account => ({ balance, reserved: 0, updatedAt: 0, holds: [], ...more });

/** The original's outcome as the partition remembers it. */
function original(type: TxType, amount: number, more: Partial<Outcome> = {}): Outcome {
  return { id: 'o1', accountId: 'acc', type, amount, status: 'applied', balance: 0, reserved: 0, decidedAt: 5_000, ...more };
}

t.test('a deposit reversed whole, without an amount: all of it leaves the account, marked as the remainder', async (t) => {
  const d = decide(deepFreeze(account(150)), deepFreeze(reversal('rv', 'acc', 'o1')), POS, deepFreeze(original('deposit', 100)));
  t.equal(d.account.balance, 50);
  t.match(d.outcome, { id: 'rv', type: 'reversal', status: 'applied', amount: 100, requestId: 'o1', remainder: true, balance: 50 });
  t.notOk('reason' in d.outcome || 'overdraft' in d.outcome);
  t.match(d.doc, { _id: '2:40', type: 'reversal', amount: 100, requestId: 'o1', remainder: true, status: 'applied', balanceAfter: 50, decidedAt: 9_000 });
});

t.test('in part: what is left is the amount less what was reversed before; past it is denied and changes nothing', async (t) => {
  const reversedBefore = original('deposit', 100, { reversed: 70 });
  t.equal(leftToReverse(reversedBefore), 30);
  const some = decide(account(150), reversal('rv', 'acc', 'o1', 30), POS, reversedBefore);
  t.match(some.outcome, { status: 'applied', amount: 30, balance: 120 });
  t.notOk('remainder' in some.outcome || 'remainder' in some.doc, 'an amount named: no remainder mark');
  const tooMuch = decide(account(150), reversal('rv', 'acc', 'o1', 31), POS, reversedBefore);
  t.match(tooMuch.outcome, { status: 'denied', reason: 'exceeds_original', amount: 31, balance: 150 });
  t.equal(tooMuch.account.balance, 150);
  const none = decide(account(150), reversal('rv', 'acc', 'o1'), POS, original('deposit', 100, { reversed: 100 }));
  t.match(none.outcome, { status: 'denied', reason: 'exceeds_original', amount: 0, remainder: true }, 'nothing left to take: denied, of 0');
  t.match(none.doc, { amount: 0, remainder: true });
});

t.test('a withdrawal reversed: the money comes back', async (t) => {
  const d = decide(account(-20), reversal('rv', 'acc', 'o1', 50), POS, original('withdraw', 80));
  t.match(d.outcome, { status: 'applied', amount: 50, balance: 30 });
  t.notOk('overdraft' in d.outcome, 'a credit is never an overdraft');
});

t.test('a debit past the funds posts as a direct withdrawal does, flagged past the overdraft limit', async (t) => {
  const flagged = decide(account(10), reversal('rv', 'acc', 'o1'), POS, original('deposit', 100));
  t.match(flagged.outcome, { status: 'applied', balance: -90, overdraft: true });
  t.equal(flagged.doc.overdraft, true);
  const withinLimit = decide(account(10, { overdraftLimit: 90 }), reversal('rv', 'acc', 'o1'), POS, original('deposit', 100));
  t.match(withinLimit.outcome, { status: 'applied', balance: -90 });
  t.notOk('overdraft' in withinLimit.outcome, 'within the limit: not flagged');
  const held = account(100, { reserved: 60, holds: [{ id: 'r', amount: 60, expiresAt: 99_999 }] });
  const d = decide(deepFreeze(held), reversal('rv', 'acc', 'o1', 80), POS, original('deposit', 100));
  t.strictSame([d.account.balance, d.account.reserved, d.account.holds], [20, 60, held.holds], 'holds are untouched');
});

t.test('neither a frozen nor a closed account refuses a reversal: it is a correction', async (t) => {
  for (const status of ['frozen', 'closed'] as const) {
    t.match(decide(account(100, { status }), reversal('rv', 'acc', 'o1'), POS, original('deposit', 100)).outcome, { status: 'applied', balance: 0 }, status);
    t.match(decide(account(0, { status }), reversal('rv', 'acc', 'o1'), POS, original('withdraw', 40)).outcome, { status: 'applied', balance: 40 }, status);
  }
});

t.test('a balance that would leave the exact range: denied either way', async (t) => {
  t.match(decide(account(-MAX_BALANCE + 5), reversal('rv', 'acc', 'o1', 6), POS, original('deposit', 10)).outcome, { status: 'denied', reason: 'balance_out_of_range', balance: -MAX_BALANCE + 5 });
  t.match(decide(account(MAX_BALANCE - 5), reversal('rv', 'acc', 'o1', 6), POS, original('withdraw', 10)).outcome, { status: 'denied', reason: 'balance_out_of_range' });
  t.match(decide(account(-MAX_BALANCE + 5), reversal('rv', 'acc', 'o1', 5), POS, original('deposit', 10)).outcome, { status: 'applied', balance: -MAX_BALANCE, overdraft: true }, 'to the edge exactly');
});

t.test('an original not remembered, or not an applied deposit, withdrawal or credit: not found, and why', async (t) => {
  t.match(decide(account(100), reversal('rv', 'acc', 'o1', 5), POS, undefined).outcome, { status: 'not_found', reason: 'original_not_found', amount: 5, balance: 100 });
  t.match(decide(account(100), reversal('rv', 'acc', 'o1'), POS, undefined).doc, { status: 'not_found', reason: 'original_not_found', amount: 0, remainder: true });
  const cases: [string, Outcome][] = [
    ['a denied deposit', original('deposit', 10, { status: 'denied', reason: 'account_closed' })],
    ['a withdrawal request', original('withdraw_request', 10, { status: 'approved' })],
    ['a cancel', original('cancel', 0, { requestId: 'r' })],
    ["a transfer's debit (reversed through its credit)", original('transfer', 10, { counterparty: 'to' })],
    ['a return', original('transfer_return', 10, { counterparty: 'to', transferId: 't' })],
    ['a settings change', original('account_settings', 0, { overdraftLimit: 5 })],
    ['a reversal', original('reversal', 10, { requestId: 'x' })],
  ];
  for (const [what, o] of cases) {
    const d = decide(account(100), reversal('rv', 'acc', 'o1', 5), POS, o);
    t.match(d.outcome, { status: 'not_found', reason: 'not_reversible', balance: 100 }, what);
    t.equal(d.account.balance, 100, `${what}: nothing moves`);
  }
});

t.test('the labels are copied, and the inputs are never touched', async (t) => {
  const msg = deepFreeze(reversal('rv', 'acc', 'o1', 5, { reference: 'refund 7', metadata: { ticket: '7' } }));
  const d = decide(deepFreeze(account(100)), msg, POS, deepFreeze(original('deposit', 10)));
  t.match(d.outcome, { reference: 'refund 7', metadata: { ticket: '7' } });
  t.match(d.doc, { reference: 'refund 7', metadata: { ticket: '7' } });
  t.not(d.doc.metadata, msg.metadata, 'copied, not shared');
});

t.test("a transfer's credit reversed: the account credited is debited and the credit back to the sender is minted", async (t) => {
  const credit = transferCredit('t1', 'from', 'to', 100, 4_000);
  const creditOutcome = original('transfer_credit', 100, { id: credit.id, accountId: 'to', counterparty: 'from', transferId: 't1' });
  const msg = reversal('rv', 'to', credit.id, 40, { reference: 'chargeback', replyTo: 'api-1', callId: 'call.1' });
  const d = decide(account(100), msg, POS, creditOutcome);
  t.match(d.outcome, { status: 'applied', amount: 40, balance: 60, requestId: credit.id });
  t.notOk('counterparty' in d.outcome, 'the reversal carries what its message carried; its original names the sender');
  const back: TxMessage = {
    v: 1,
    id: `rv~credit~to~${POS.clock}`,
    type: 'transfer_credit',
    accountId: 'from',
    amount: 40,
    counterparty: 'to',
    transferId: 'rv',
    receivedAt: POS.clock,
    reference: 'chargeback',
  };
  t.strictSame(nextLeg(msg, d.outcome, POS, creditOutcome), back, 'no caller waits on it');
  const whole = decide(account(100), reversal('rv', 'to', credit.id), POS, creditOutcome);
  t.equal(nextLeg(reversal('rv', 'to', credit.id), whole.outcome, POS, creditOutcome)?.amount, 100, 'the amount the reversal took');
});

t.test('nothing minted for a reversed deposit or withdrawal, nor for a reversal refused', async (t) => {
  for (const type of ['deposit', 'withdraw'] as const) {
    const o = original(type, 10);
    const msg = reversal('rv', 'acc', 'o1');
    t.equal(nextLeg(msg, decide(account(100), msg, POS, o).outcome, POS, o), undefined, type);
  }
  const credit = original('transfer_credit', 10, { counterparty: 'from', transferId: 't1' });
  const tooMuch = reversal('rv', 'acc', 'o1', 11);
  t.equal(nextLeg(tooMuch, decide(account(100), tooMuch, POS, credit).outcome, POS, credit), undefined, 'denied');
  t.equal(nextLeg(deposit('d', 'acc', 5), decide(account(0), deposit('d', 'acc', 5), POS).outcome, POS, credit), undefined, 'only a reversal mints with an original');
  t.equal(nextLeg(withdraw('w', 'acc', 5), decide(account(9), withdraw('w', 'acc', 5), POS).outcome, POS), undefined);
});

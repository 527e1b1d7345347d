// The rule of a reversal (docs/transfers.md, Reversals), for one account: it
// undoes, entirely or in part, an applied deposit, withdrawal or transfer
// credit of the same account, judged against that original as the partition
// remembers it (its first outcome, with the total already reversed). Pure,
// like every rule: the partition finds the original (consumer/partition-reversals.ts),
// this decides.
import { isReversible } from '../common/ledger-outcome.js';
import type { Outcome, TxMessage, TxReason } from '../common/types.js';
import { MAX_BALANCE, settle } from './ledger-decision.js';
import { overdraftLimitOf } from './ledger-settings.js';
import type { Account, Decision, Position } from './ledger.js';
import type { RuleName } from './rule-names.js';

/** What is left to reverse of an original: its amount less what its reversals took back. */
export function leftToReverse(original: Pick<Outcome, 'amount' | 'reversed'>): number {
  return (original.amount ?? 0) - (original.reversed ?? 0);
}

/** Whether reversing `original` takes money out of the account (a deposit, a credit) rather than putting it back (a withdrawal). */
export function reversalDebits(original: Pick<Outcome, 'type'>): boolean {
  return original.type !== 'withdraw';
}

/**
 * `reversal`: a correction, so neither a frozen nor a closed account refuses
 * it. Of money that came in, a debit that posts even past the funds, as a
 * direct withdrawal does (flagged `overdraft` past the limit); of a
 * withdrawal, a credit. `original` is undefined when the account remembers no
 * decision of `msg.requestId` within the id window.
 */
export function reverse(account: Account, msg: TxMessage, pos: Position, original: Outcome | undefined): Decision {
  const left = original !== undefined && isReversible(original) ? leftToReverse(original) : 0;
  // Without an amount, all that is left (nothing, of what cannot be reversed): the decision records the amount it came to.
  const amount = msg.amount ?? left;
  const refusal = refusalOf(account, original, amount, left);
  const next = refusal === undefined ? moved(account, original!, amount) : account;
  const overdraft = refusal === undefined && reversalDebits(original!) && next.balance < -overdraftLimitOf(account);
  const status = refusal === undefined ? 'applied' : refusal === 'exceeds_original' || refusal === 'balance_out_of_range' ? 'denied' : 'not_found';
  const d = settle(ruleOf(refusal), { ...msg, amount }, pos, next, status, refusal, overdraft);
  if (msg.amount === undefined) d.outcome.remainder = d.doc.remainder = true;
  return d;
}

function refusalOf(account: Account, original: Outcome | undefined, amount: number, left: number): TxReason | undefined {
  if (original === undefined) return 'original_not_found';
  if (!isReversible(original)) return 'not_reversible';
  if (amount === 0 || amount > left) return 'exceeds_original';
  const outOfRange = reversalDebits(original) ? account.balance < amount - MAX_BALANCE : account.balance > MAX_BALANCE - amount;
  return outOfRange ? 'balance_out_of_range' : undefined;
}

/** The row of the reversal table that `refusal` (or, without one, the application) is. */
function ruleOf(refusal: TxReason | undefined): RuleName {
  switch (refusal) {
    case undefined:
      return 'reversal-applied';
    case 'original_not_found':
      return 'reversal-original-not-found';
    case 'not_reversible':
      return 'reversal-not-reversible';
    case 'exceeds_original':
      return 'reversal-exceeds-original';
    default:
      return 'reversal-out-of-range';
  }
}

function moved(account: Account, original: Outcome, amount: number): Account {
  return { ...account, balance: reversalDebits(original) ? account.balance - amount : account.balance + amount };
}

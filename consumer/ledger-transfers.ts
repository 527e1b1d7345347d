// The rules of a transfer's legs on their own accounts (docs/transfers.md,
// The legs): the debit on `from`, the credit on `to`, and the return to
// `from` of a credit refused. What a leg mints for the next one is
// consumer/transfer-legs.ts.
import type { TxMessage } from '../common/types.js';
import { amountOf, MAX_BALANCE, settle } from './ledger-decision.js';
import { availableFunds, creditRefusal, debitRefusal } from './ledger-settings.js';
import type { Account, Decision, Position } from './ledger.js';
import { debitRefusalRule } from './rule-names.js';

/**
 * `transfer`: decided as a withdrawal request decides its hold (the status
 * first, then the funds), but takes the money at once. Available funds cover
 * the amount, so the balance stays within the overdraft limit and the exact range.
 */
export function transferDebit(account: Account, msg: TxMessage, pos: Position): Decision {
  const amount = amountOf(msg);
  const refusal = debitRefusal(account);
  if (refusal !== undefined) return settle(debitRefusalRule(refusal), msg, pos, account, 'denied', refusal);
  if (availableFunds(account) < amount) return settle('transfer-debit-insufficient-funds', msg, pos, account, 'denied', 'insufficient_funds');
  return settle('transfer-debit', msg, pos, { ...account, balance: account.balance - amount }, 'applied');
}

/** `deposit` and `transfer_credit`: money in, unless the account is closed or the balance would leave the exact range. */
export function credit(account: Account, msg: TxMessage, pos: Position): Decision {
  const amount = amountOf(msg);
  const refusal = creditRefusal(account);
  const deposit = msg.type === 'deposit';
  if (refusal !== undefined) return settle('credit-account-closed', msg, pos, account, 'denied', refusal);
  if (account.balance > MAX_BALANCE - amount) {
    return settle(deposit ? 'deposit-out-of-range' : 'transfer-credit-out-of-range', msg, pos, account, 'denied', 'balance_out_of_range');
  }
  return settle(deposit ? 'deposit' : 'transfer-credit', msg, pos, { ...account, balance: account.balance + amount }, 'applied');
}

/**
 * `transfer_return`: always applied, on a closed account too. The money was
 * this account's before its debit, and a ledger never loses it; so the
 * exact range is not checked either (a balance past it would need deposits
 * of nearly 2^53 while the transfer was in flight).
 */
export function transferReturn(account: Account, msg: TxMessage, pos: Position): Decision {
  return settle('transfer-return', msg, pos, { ...account, balance: account.balance + amountOf(msg) }, 'applied');
}

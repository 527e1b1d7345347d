// An account's settings (docs/transfers.md, Account settings): its overdraft
// limit and its status, what they allow, and the `account_settings` rule that
// changes them. Both are kept absent from the account while they are the
// default, so that an account never set stays as it always was, in memory and
// in snapshots.
import type { AccountStatus, TxMessage, TxReason } from '../common/types.js';
import { settle } from './ledger-decision.js';
import type { Account, Decision, Position } from './ledger.js';

export function overdraftLimitOf(account: Account): number {
  return account.overdraftLimit ?? 0;
}

export function statusOf(account: Account): AccountStatus {
  return account.status ?? 'open';
}

/**
 * What an approval (a withdrawal request, a transfer's debit) may take:
 * `balance - reserved + overdraftLimit`. Each term is within 2^53 - 1, so the
 * sum may round, but only where it is far from any amount: compared with one,
 * it answers as the exact sum would.
 */
export function availableFunds(account: Account): number {
  return account.balance - account.reserved + overdraftLimitOf(account);
}

/** Why a debit (a withdrawal request, a withdrawal, a transfer's debit) is refused whatever its amount; undefined on an open account. */
export function debitRefusal(account: Account): Extract<TxReason, 'account_frozen' | 'account_closed'> | undefined {
  const status = statusOf(account);
  if (status === 'frozen') return 'account_frozen';
  if (status === 'closed') return 'account_closed';
  return undefined;
}

/** Why a credit (a deposit, a transfer's credit) is refused whatever its amount; a return never is. */
export function creditRefusal(account: Account): Extract<TxReason, 'account_closed'> | undefined {
  return statusOf(account) === 'closed' ? 'account_closed' : undefined;
}

/**
 * `account_settings`: applied, with the settings the message names. Closing
 * an account that holds money or has open holds is denied `account_not_empty`
 * and changes nothing, not even an overdraft limit named beside it.
 */
export function changeSettings(account: Account, msg: TxMessage, pos: Position): Decision {
  if (msg.accountStatus === 'closed' && (account.balance !== 0 || account.holds.length > 0)) {
    return settle('settings-account-not-empty', msg, pos, account, 'denied', 'account_not_empty');
  }
  return settle('settings-applied', msg, pos, withSettings(account, msg), 'applied');
}

function withSettings(account: Account, { overdraftLimit, accountStatus }: TxMessage): Account {
  const next: { -readonly [K in keyof Account]: Account[K] } = { ...account };
  if (overdraftLimit === 0) delete next.overdraftLimit;
  else if (overdraftLimit !== undefined) next.overdraftLimit = overdraftLimit;
  if (accountStatus === 'open') delete next.status;
  else if (accountStatus !== undefined) next.status = accountStatus;
  return next;
}

// What a partition decides around the per-account rules (consumer/ledger.ts):
// the answer to an id reused with another body, and whether a decision left
// an account worth storing.
import type { Outcome, TxMessage } from '../common/types.js';
import type { Account, Position } from './ledger.js';

/** The answer to a message whose id this account already decided with another body: nothing changes. */
export function conflictOutcome(account: Account, msg: TxMessage, pos: Position): Outcome {
  const outcome: Outcome = {
    id: msg.id,
    accountId: msg.accountId,
    type: msg.type,
    status: 'conflict',
    reason: 'id_reused',
    balance: account.balance,
    reserved: account.reserved,
    decidedAt: pos.clock,
  };
  if (msg.amount !== undefined) outcome.amount = msg.amount;
  return outcome;
}

/**
 * What an unknown account is: nothing to store for it. Accounts come into
 * being with a change (docs/ledger-rules.md), and a setting away from its
 * default is one (docs/transfers.md).
 */
export function isEmpty(a: Account): boolean {
  return a.balance === 0 && a.reserved === 0 && a.holds.length === 0 && a.overdraftLimit === undefined && a.status === undefined;
}

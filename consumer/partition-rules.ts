// What a partition decides around the per-account rules (consumer/ledger.ts):
// the answer to an id reused with another body, and whether a decision left
// an account worth storing; which per-account rules it decides with, and what
// it tells of each decision's inputs to a replay that explains one.
import type { Outcome, TxMessage } from '../common/types.js';
import { decide, type Account, type Decision, type Position } from './ledger.js';
import type { RuleName } from './rule-names.js';

/**
 * The per-account rules a partition decides with: `decide` of consumer/ledger.ts,
 * or, in a shadow replay (`npm run audit -- --rules`, docs/explanations.md),
 * another module's. Everything around them (ids, repeats, the clock, lapses)
 * is the partition's own.
 */
export interface LedgerRules {
  decide(account: Account, msg: TxMessage, pos: Position, original?: Outcome): Decision;
}

export const LEDGER_RULES: LedgerRules = { decide };

/**
 * What a message was decided against, told to a partition's observer
 * (`PartitionLedger.observeDecisions`) by a replay that explains a decision
 * (consumer/explanation.ts). Read only: nothing the partition decides depends
 * on whether it is observed.
 */
export interface DecisionInputs {
  /** The account after the record's lapses, before its decision (an unknown account is empty). */
  account: Account;
  /** Where the message sits, with the log clock and its source after the record. */
  position: Position;
  rule: RuleName;
  /** The id's remembered first outcome, for a repeat or a conflict. */
  remembered?: Outcome;
  /** The original a reversal was judged against, as the partition remembers it. */
  original?: Outcome;
}

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

// What every rule ends with (consumer/ledger.ts): the account after the
// decision, the outcome the client reads and the ledger document, built alike
// for every message type, so that each rule says only what it decides.
import type { LedgerDoc, Outcome, TxMessage, TxReason, TxStatus } from '../common/types.js';
import type { Account, Decision, Position } from './ledger.js';
import type { RuleName } from './rule-names.js';

/**
 * The largest balance, either way, that Teller counts exactly: every amount,
 * balance and total is a JavaScript number, an IEEE double, which holds
 * integers exactly only up to 2^53 - 1. A change that would take a balance
 * past it is denied instead of rounded (docs/ledger-rules.md).
 */
export const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

/**
 * The `_id` of the decision document of the message at `pos`: its place in the log, which no
 * other message shares, while a replay of the log gives it again (a redelivered batch then
 * inserts duplicates, which change nothing). Not the transaction id: an id re-sent after the id
 * window is a new transaction, and its document must not collide with the first one's.
 */
export function decisionDocId(pos: Position): string {
  return `${pos.partition}:${pos.offset}`;
}

/** The members a decision copies from its message when present (docs/transfers.md): part of the body a repeat is judged by. */
const COPIED = ['counterparty', 'transferId', 'reference', 'overdraftLimit', 'accountStatus', 'pending'] as const;

/** The decision of `msg` by the rule named `rule` (consumer/rule-names.ts): `next` is the account after it. */
export function settle(
  rule: RuleName,
  msg: TxMessage,
  pos: Position,
  next: Account,
  status: TxStatus,
  reason?: TxReason,
  overdraft?: boolean,
): Decision {
  const account: Account = { ...next, updatedAt: pos.clock };
  const outcome: Outcome = {
    id: msg.id,
    accountId: msg.accountId,
    type: msg.type,
    status,
    balance: account.balance,
    reserved: account.reserved,
    decidedAt: pos.clock,
  };
  const doc: LedgerDoc = {
    _id: decisionDocId(pos),
    id: msg.id,
    accountId: msg.accountId,
    type: msg.type,
    amount: msg.amount ?? 0,
    status,
    balanceAfter: account.balance,
    reservedAfter: account.reserved,
    partition: pos.partition,
    offset: pos.offset,
    receivedAt: msg.receivedAt,
    // With the time to live, what a repeat's first answer is read back from (common/ledger-outcome.ts).
    decidedAt: pos.clock,
  };
  if (msg.amount !== undefined) outcome.amount = msg.amount;
  if (msg.requestId !== undefined) outcome.requestId = doc.requestId = msg.requestId;
  if (msg.expiresInSeconds !== undefined) outcome.expiresInSeconds = doc.expiresInSeconds = msg.expiresInSeconds;
  // The client's claim, kept as such: no rule reads it.
  if (msg.clientTimestamp !== undefined) doc.clientTimestamp = msg.clientTimestamp;
  for (const key of COPIED) {
    const value = msg[key];
    if (value === undefined) continue;
    Object.assign(outcome, { [key]: value });
    Object.assign(doc, { [key]: value });
  }
  // Copied, each its own: the document goes to the database and the outcome to memory, neither shares the message's object.
  if (msg.metadata !== undefined) {
    outcome.metadata = { ...msg.metadata };
    doc.metadata = { ...msg.metadata };
  }
  if (reason !== undefined) outcome.reason = doc.reason = reason;
  if (overdraft) outcome.overdraft = doc.overdraft = true;
  return { account, outcome, doc, rule };
}

export function amountOf(msg: TxMessage): number {
  // The schema requires an amount on every type but cancel and settings; a missing one here is a bug upstream.
  if (msg.amount === undefined) throw new TypeError(`${msg.type} ${msg.id} has no amount`);
  return msg.amount;
}

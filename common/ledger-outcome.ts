// The outcome a ledger document records, read back from the document: what a
// partition owner answers a repeat of an id with once the decision has left
// its memory (consumer/id-lookup.ts), and what `GET /v1/transactions/:id`
// answers once the outcome has left Redis (api/readmodel.ts). Both read the
// same documents the same way, here.
//
// A decision document holds every field of its outcome (consumer/ledger.ts,
// `settle`); what later became of it is in documents of their own: a
// request's fate in an applied cancel naming it or its lapse (`expire`); a
// pending transfer's in an applied post or void naming it or its lapse
// (docs/transfers.md, Two-phase transfers); the total reversed of a deposit,
// withdrawal or transfer credit in the applied reversals naming it
// (docs/transfers.md, Reversals).
import type { LedgerDoc, Outcome, TxStatus, TxType } from './types.js';

/**
 * Documents that can change a decision's remembered outcome, by type: what a lookup reads by `{requestId}`
 * (a request's or a pending transfer's status, a total reversed).
 */
export const STATUS_CHANGE_TYPES = ['cancel', 'expire', 'transfer_post', 'transfer_void', 'reversal'] as const;

/** The types a reversal can undo, once applied (docs/transfers.md, Reversals). */
export const REVERSIBLE_TYPES: readonly TxType[] = ['deposit', 'withdraw', 'transfer_credit'];

/** Whether a reversal may undo this decision: an applied deposit, withdrawal or transfer credit. */
export function isReversible(decision: Pick<Outcome, 'type' | 'status'>): boolean {
  return decision.status === 'applied' && REVERSIBLE_TYPES.includes(decision.type);
}

/**
 * Whether later documents may change what a repeat of this decision answers: the status of a request
 * or pending transfer that opened a hold, a total reversed.
 */
export function mayChangeLater(decision: Pick<LedgerDoc, 'type' | 'status'>): boolean {
  if (!isDecision(decision)) return false;
  return openedHold(decision) || isReversible(decision);
}

/**
 * When the document's decision was taken, by the log clock: `decidedAt`, or
 * for a document written before it had one, `receivedAt` (the clock is never
 * behind a message it decides, so such an id may leave the window a little
 * early, never late). A lapse written before lapses had one recorded the log
 * clock of its lapse as `receivedAt`, so for lapses the fallback is exact.
 */
export function decidedAtOf(doc: Pick<LedgerDoc, 'decidedAt' | 'receivedAt'>): number {
  return doc.decidedAt ?? doc.receivedAt;
}

/** Whether `doc` is the decision of a message (not a lapse). */
export function isDecision(doc: Pick<LedgerDoc, 'type'>): doc is LedgerDoc & { type: TxType } {
  return doc.type !== 'expire';
}

/** The first answer a decision document records, exactly as the owner gave it. */
export function outcomeOfDocument(doc: LedgerDoc & { type: TxType }): Outcome {
  const outcome: Outcome = {
    id: doc.id,
    accountId: doc.accountId,
    type: doc.type,
    status: doc.status,
    balance: doc.balanceAfter,
    reserved: doc.reservedAfter,
    decidedAt: decidedAtOf(doc),
  };
  // A cancel, a settings change and a void carry no amount, nor a post that names none (common/message.ts); their documents record 0.
  if (doc.type !== 'cancel' && doc.type !== 'account_settings' && doc.type !== 'transfer_void' && !(doc.type === 'transfer_post' && doc.amount === 0)) {
    outcome.amount = doc.amount;
  }
  if (doc.requestId !== undefined) outcome.requestId = doc.requestId;
  if (doc.expiresInSeconds !== undefined) outcome.expiresInSeconds = doc.expiresInSeconds;
  if (doc.reason !== undefined) outcome.reason = doc.reason;
  if (doc.overdraft) outcome.overdraft = true;
  for (const key of DOCUMENT_EXTRAS) if (doc[key] !== undefined) Object.assign(outcome, { [key]: doc[key] });
  return outcome;
}

/**
 * The members a decision document copies from its message when present (docs/transfers.md), a
 * two-phase transfer's flag and a post's amount, and a reversal's `remainder` mark.
 */
const DOCUMENT_EXTRAS = ['counterparty', 'transferId', 'reference', 'metadata', 'overdraftLimit', 'accountStatus', 'pending', 'postedAmount', 'remainder'] as const;

/** The status a document gives the request (or pending transfer) it names, when it released the hold. */
export function statusGiven(doc: Pick<LedgerDoc, 'type' | 'status'>): HeldStatus | undefined {
  if (doc.type === 'expire') return 'expired';
  if (doc.status !== 'applied') return undefined;
  if (doc.type === 'cancel') return 'cancelled';
  if (doc.type === 'transfer_post') return 'posted';
  if (doc.type === 'transfer_void') return 'voided';
  return undefined;
}

/** What became of a hold: the later status of the decision that opened it. */
export type HeldStatus = Extract<TxStatus, 'cancelled' | 'expired' | 'posted' | 'voided'>;

/** Whether `outcome` opened a hold whose release later changes its status: an approved withdrawal request or pending transfer. */
export function openedHold(outcome: Pick<Outcome, 'type' | 'status'>): boolean {
  return outcome.status === 'approved' && (outcome.type === 'withdraw_request' || outcome.type === 'transfer');
}

/**
 * The outcome of `decision` as a repeat sees it: an approved request (or pending transfer) takes the
 * status of the first document after it (by offset, in its partition) that
 * released its hold; a reversible decision, the total of the applied
 * reversals after it. `changes` are documents naming the decision, in any order.
 */
export function withLaterStatus(decision: LedgerDoc & { type: TxType }, changes: readonly LedgerDoc[]): Outcome {
  const outcome = outcomeOfDocument(decision);
  const later = changes.filter((doc) => isLaterChange(decision, doc));
  if (isReversible(outcome)) {
    const reversed = totalReversed(later);
    if (reversed > 0) outcome.reversed = reversed;
    return outcome;
  }
  if (!openedHold(outcome)) return outcome;
  let first: LedgerDoc | undefined;
  for (const doc of later) {
    if (statusGiven(doc) === undefined) continue;
    if (!first || doc.offset < first.offset) first = doc;
  }
  if (first) outcome.status = statusGiven(first)!;
  return outcome;
}

/** Whether `doc` names `decision` and came after it, in its partition and on its account. */
function isLaterChange(decision: LedgerDoc, doc: LedgerDoc): boolean {
  return doc.partition === decision.partition && doc.accountId === decision.accountId && doc.requestId === decision.id && doc.offset > decision.offset;
}

/**
 * What the applied reversals among `docs` took back, all of them naming one
 * original. Each counts once, by its `_id`: a lookup may read one document
 * twice (a reversal in the same batch as a repeat of its original is read
 * both by its own id and by the original's).
 */
function totalReversed(docs: readonly LedgerDoc[]): number {
  const counted = new Set<string>();
  let total = 0;
  for (const doc of docs) {
    if (doc.type !== 'reversal' || doc.status !== 'applied' || counted.has(doc._id)) continue;
    counted.add(doc._id);
    total += doc.amount;
  }
  return total;
}

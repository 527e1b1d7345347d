// The outcome a ledger document records, read back from the document: what a
// partition owner answers a repeat of an id with once the decision has left
// its memory (consumer/id-lookup.ts), and what `GET /v1/transactions/:id`
// answers once the outcome has left Redis (api/readmodel.ts). Both read the
// same documents the same way, here.
//
// A decision document holds every field of its outcome (consumer/ledger.ts,
// `settle`); a request's later fate is in documents of its own: an applied
// cancel naming it, or its lapse (`expire`); a pending transfer's, an applied
// post or void naming it, or its lapse (docs/transfers.md, Two-phase transfers).
import type { LedgerDoc, Outcome, TxStatus, TxType } from './types.js';

/** Documents that can change a request's (or a pending transfer's) remembered status, by type. */
export const STATUS_CHANGE_TYPES = ['cancel', 'expire', 'transfer_post', 'transfer_void'] as const;

/**
 * When the document's decision was taken, by the log clock: `decidedAt`, or
 * for a document written before it had one, `receivedAt` (the clock is never
 * behind a message it decides, so such an id may leave the window a little
 * early, never late).
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

/** The members a decision document copies from its message when present (docs/transfers.md). */
const DOCUMENT_EXTRAS = ['counterparty', 'transferId', 'reference', 'metadata', 'overdraftLimit', 'accountStatus', 'pending', 'postedAmount'] as const;

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
 * released its hold. `changes` are documents naming the request, in any order.
 */
export function withLaterStatus(decision: LedgerDoc & { type: TxType }, changes: readonly LedgerDoc[]): Outcome {
  const outcome = outcomeOfDocument(decision);
  if (!openedHold(outcome)) return outcome;
  let first: LedgerDoc | undefined;
  for (const doc of changes) {
    if (doc.partition !== decision.partition || doc.accountId !== decision.accountId || doc.requestId !== decision.id) continue;
    if (doc.offset <= decision.offset || statusGiven(doc) === undefined) continue;
    if (!first || doc.offset < first.offset) first = doc;
  }
  if (first) outcome.status = statusGiven(first)!;
  return outcome;
}

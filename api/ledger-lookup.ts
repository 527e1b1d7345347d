// A transaction by id from the ledger (MongoDB `transactions`), the system of
// record: what `GET /v1/transactions/:id` answers once Redis no longer holds
// the id's outcome (it keeps outcomes for OUTCOME_TTL_SECONDS only). Read by
// the `{id: 1}` index, then, for an approved withdrawal request or pending
// transfer, its cancels, posts, voids and lapses, and for an applied deposit,
// withdrawal or transfer credit, its reversals, by `{requestId: 1}`; the
// outcome is read back from the documents
// as the partition owner reads it for a repeat (common/ledger-outcome.ts).
import type { Collection } from 'mongodb';
import { decidedAtOf, isDecision, mayChangeLater, outcomeOfDocument, STATUS_CHANGE_TYPES, withLaterStatus } from '../common/ledger-outcome.js';
import type { LedgerDoc, Outcome, TxType } from '../common/types.js';
import { decisionDocId } from '../consumer/ledger-decision.js';

export type LedgerReader = Pick<Collection<LedgerDoc>, 'find'>;

/** How long one lookup may take on the server, so a slow database cannot hold a call past NGINX's timeout. */
const LOOKUP_MAX_MS = 5_000;

/**
 * The newest decision of `id` (on `accountId` when given, of `type` when
 * given: a transfer's lookup), with the status a later cancel, post, void or lapse gave
 * it and the total later reversals took back; null when the ledger has none. Ids are per account: once the registry
 * of ids across accounts has let an id go, another account may use it, and
 * without an account this answers the newest decision of any account.
 */
export async function ledgerTransaction(ledger: LedgerReader, id: string, accountId?: string, type?: TxType): Promise<Outcome | null> {
  const docs = await ledger.find({ id }, { maxTimeMS: LOOKUP_MAX_MS }).toArray();
  let newest: (LedgerDoc & { type: Exclude<LedgerDoc['type'], 'expire'> }) | undefined;
  for (const doc of docs) {
    if (!isDecision(doc) || (accountId !== undefined && doc.accountId !== accountId) || (type !== undefined && doc.type !== type)) continue;
    if (!newest || later(doc, newest)) newest = doc;
  }
  if (!newest) return null;
  if (!mayChangeLater(newest)) return withLaterStatus(newest, []);
  const changes = await ledger.find({ requestId: id, type: { $in: [...STATUS_CHANGE_TYPES] } }, { maxTimeMS: LOOKUP_MAX_MS }).toArray();
  return withLaterStatus(newest, changes);
}

/**
 * The applied post or void of the pending transfer `transferId` on `from`,
 * decided no earlier than the transfer (`after`, its decision's time): the
 * first, by the `{requestId: 1}` index (docs/transfers.md, Two-phase
 * transfers). Null while the ledger holds none.
 */
export async function ledgerSettlement(ledger: LedgerReader, from: string, transferId: string, after: number): Promise<Outcome | null> {
  const docs = await ledger.find({ requestId: transferId, type: { $in: ['transfer_post', 'transfer_void'] } }, { maxTimeMS: LOOKUP_MAX_MS }).toArray();
  let first: (LedgerDoc & { type: TxType }) | undefined;
  for (const doc of docs) {
    if (!isDecision(doc) || doc.accountId !== from || doc.status !== 'applied' || decidedAtOf(doc) < after) continue;
    if (!first || later(first, doc)) first = doc;
  }
  return first ? outcomeOfDocument(first) : null;
}

/**
 * The newest document of `id` (on `accountId` when given): a decision, or a
 * lapse, whose id is `<requestId>~expired`. What an explanation replays to
 * (docs/explanations.md); null when the ledger has none.
 */
export async function ledgerDocument(ledger: LedgerReader, id: string, accountId?: string): Promise<LedgerDoc | null> {
  const docs = await ledger.find({ id }, { maxTimeMS: LOOKUP_MAX_MS }).toArray();
  let newest: LedgerDoc | undefined;
  for (const doc of docs) if ((accountId === undefined || doc.accountId === accountId) && (!newest || later(doc, newest))) newest = doc;
  return newest ?? null;
}

/** The decision document of the message at `offset` of `partition`, by its `_id`; null when that message wrote none (a repeat, a conflict, a tick). */
export async function ledgerDocumentAt(ledger: LedgerReader, partition: number, offset: number): Promise<LedgerDoc | null> {
  const [doc] = await ledger.find({ _id: decisionDocId({ partition, offset, clock: 0 }) }, { maxTimeMS: LOOKUP_MAX_MS }).toArray();
  return doc ?? null;
}

/** Decided later by the log clock; within one partition, the later offset. */
function later(a: LedgerDoc, b: LedgerDoc): boolean {
  if (a.partition === b.partition) return a.offset > b.offset;
  return decidedAtOf(a) > decidedAtOf(b);
}

// Looking up, in the ledger, the ids a batch may repeat. A partition owner
// keeps in memory only the decisions not yet inserted and a filter of the
// window's ids (consumer/id-filter.ts); before it decides a batch, every id
// the filter may hold and memory does not is read from the ledger here, in one
// round of queries, and the batch is then decided from what was found
// (`DurableDecisions`), with no I/O.
//
// The queries are `{id}` (each id's decisions, by the `{id: 1}` index) and,
// for the requests and pending transfers among them that were approved and the applied deposits,
// withdrawals and transfer credits, `{requestId}` (the cancels, posts, voids and lapses
// that may have changed a request's or pending transfer's status, the reversals that took back
// part of an original, by `{requestId: 1}`): one
// query a key rather than one `$in` for the batch, because the embedded
// server narrows a read by an index only for a top-level equality
// (docs/embedded-database.md); there, `$in` or `$or` would read the whole
// ledger, and an equality on `accountId` the account's whole history. A
// leading `id` reads the few documents of that id, of any account, and
// `DurableDecisions` keeps those of this account and partition.
import type { Collection, Filter } from 'mongodb';
import { decidedAtOf, isDecision, mayChangeLater, STATUS_CHANGE_TYPES, withLaterStatus } from '../common/ledger-outcome.js';
import type { LedgerDoc, Outcome } from '../common/types.js';
import { ledgerId, splitLedgerId } from './ledger.js';
import type { DurableIds } from './remembered-ids.js';

export type LedgerFinder = Pick<Collection<LedgerDoc>, 'find'>;

/** Queries run at once, at most: a batch of many repeats does not open a query each at the same time. */
const QUERIES_IN_FLIGHT = 16;

/** The query of each id's decisions: one per id, whatever its accounts. */
export function decisionQueries(keys: Iterable<string>): Filter<LedgerDoc>[] {
  const ids = new Set<string>();
  for (const key of keys) ids.add(splitLedgerId(key).id);
  return [...ids].map((id) => ({ id }));
}

/** The query of the documents that may have changed each decision (cancelled, posted, voided or lapsed a hold, reversed an original): one per id. */
export function statusQueries(requestIds: Iterable<string>): Filter<LedgerDoc>[] {
  return [...new Set(requestIds)].map((requestId) => ({ requestId, type: { $in: [...STATUS_CHANGE_TYPES] } }));
}

/**
 * What the ledger holds of the ids a batch looked up, for one partition: the
 * first outcome of each id as of any message of the batch, by the same rule
 * the owner remembers ids by (remembered while decided no earlier than the
 * clock minus the window).
 */
export class DurableDecisions implements DurableIds {
  /** Decisions of this partition by key (account/id). */
  private readonly decisions = new Map<string, LedgerDoc[]>();
  /** Documents of this partition naming a decision they may have changed (a request's hold released, an original reversed), by its key. */
  private readonly changes = new Map<string, LedgerDoc[]>();

  constructor(
    readonly partition: number,
    private readonly keys: ReadonlySet<string>,
    docs: Iterable<LedgerDoc>,
  ) {
    for (const doc of docs) {
      if (doc.partition !== partition) continue;
      if (isDecision(doc) && keys.has(ledgerId(doc.accountId, doc.id))) push(this.decisions, ledgerId(doc.accountId, doc.id), doc);
      if (doc.requestId !== undefined && doc.type !== 'withdraw') push(this.changes, ledgerId(doc.accountId, doc.requestId), doc);
    }
  }

  lookedUp(key: string): boolean {
    return this.keys.has(key);
  }

  /**
   * The outcome a message at `offset` gets for `key` from the ledger: that of
   * the newest decision before it, if decided at `horizon` or later, with the
   * status a cancel or lapse before the message gave it and the total the
   * reversals before it took back; undefined otherwise.
   */
  firstOutcome(key: string, offset: number, horizon: number): Outcome | undefined {
    let newest: LedgerDoc | undefined;
    for (const doc of this.decisions.get(key) ?? []) if (doc.offset < offset && (!newest || doc.offset > newest.offset)) newest = doc;
    if (!newest || !isDecision(newest) || decidedAtOf(newest) < horizon) return undefined;
    const changes = (this.changes.get(key) ?? []).filter((doc) => doc.offset < offset);
    return withLaterStatus(newest, changes);
  }

  /**
   * Ids among the decisions found whose outcome other documents may have
   * changed since: approved requests and pending transfers (cancelled,
   * posted, voided, lapsed) and applied deposits, withdrawals and transfer
   * credits (reversed).
   */
  changeableIds(): string[] {
    const ids: string[] = [];
    for (const docs of this.decisions.values()) if (docs.some(mayChangeLater)) ids.push(docs[0]!.id);
    return ids;
  }
}

/** Reads what the ledger holds of `keys` for `partition`: their decisions, then what later documents did to those that may have changed. */
export async function lookUp(ledger: LedgerFinder, partition: number, keys: ReadonlySet<string>): Promise<DurableDecisions> {
  if (keys.size === 0) return new DurableDecisions(partition, keys, []);
  const decisions = await findAll(ledger, decisionQueries(keys));
  const found = new DurableDecisions(partition, keys, decisions);
  const changeable = found.changeableIds();
  if (changeable.length === 0) return found;
  const changes = await findAll(ledger, statusQueries(changeable));
  return new DurableDecisions(partition, keys, [...decisions, ...changes]);
}

async function findAll(ledger: LedgerFinder, queries: Filter<LedgerDoc>[]): Promise<LedgerDoc[]> {
  const docs: LedgerDoc[] = [];
  for (let i = 0; i < queries.length; i += QUERIES_IN_FLIGHT) {
    const answers = await Promise.all(queries.slice(i, i + QUERIES_IN_FLIGHT).map((query) => ledger.find(query).toArray()));
    for (const answer of answers) docs.push(...(answer as LedgerDoc[]));
  }
  return docs;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

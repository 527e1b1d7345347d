// An account's statement, read from the ledger (MongoDB `transactions`), the
// system of record: newest first, in pages. The cursor is the ledger offset
// of the last entry of a page, and the next page is what lies strictly before
// it. An account lives in one partition, whose offsets only grow, so a write
// that lands while a client pages lands above its cursor and cannot shift or
// repeat an entry: pagination is stable under concurrent writes.
//
// Entries share an offset when a message lapsed holds before its own decision
// (the `expire` documents carry the offset of the message that advanced the
// clock), so a page never ends inside an offset: it takes the whole group.
//
// The filters (a reference, types, statuses, a range of decision times) are
// built in api/ledger-filters.ts, led by the account's equality, so the
// statement index `{accountId: 1, offset: -1}` serves every page on MongoDB
// and on FerretDB. A statement is one of the replica's ledger reads, which run
// one at a time with a bounded wait (api/ledger-reads.ts).
import type { Filter } from 'mongodb';
import { createError, TELLER_ERR_INVALID_CURSOR } from '../common/errors.js';
import type { LedgerDoc } from '../common/types.js';
import { statementQuery, type StatementFilter } from './ledger-filters.js';
import { DEFAULT_LEDGER_READ_LIMITS, LedgerReads, type LedgerCollection, type LedgerFind, type LedgerReadLimits } from './ledger-reads.js';

export type { StatementFilter } from './ledger-filters.js';
export type { LedgerCollection } from './ledger-reads.js';
/** The statement's limits are those of every ledger read of the replica. */
export type StatementLimits = LedgerReadLimits;
export const DEFAULT_STATEMENT_LIMITS = DEFAULT_LEDGER_READ_LIMITS;

export interface StatementPage {
  entries: LedgerDoc[];
  /** The cursor of the next page, when there is one. */
  next?: string;
}

const CURSOR = /^o(\d{1,16})$/;

/** Opaque to clients: base64url of `o<offset>`. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o${offset}`).toString('base64url');
}

/** The offset in a cursor; TELLER_ERR_INVALID_CURSOR when the cursor is not one of ours. */
export function decodeCursor(cursor: string): number {
  const m = /^[A-Za-z0-9_-]{1,32}$/.test(cursor) ? CURSOR.exec(Buffer.from(cursor, 'base64url').toString('latin1')) : null;
  const offset = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(offset)) throw createError(TELLER_ERR_INVALID_CURSOR);
  return offset;
}

/** Within one offset the decision is the newest entry, the lapses it triggered come just before it. */
function newestFirst(a: LedgerDoc, b: LedgerDoc): number {
  if (a.offset !== b.offset) return b.offset - a.offset;
  const ea = a.type === 'expire' ? 1 : 0;
  const eb = b.type === 'expire' ? 1 : 0;
  if (ea !== eb) return ea - eb;
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
}

export class Statements {
  private readonly reads: LedgerReads;

  /** Given the collection, a queue of its own; given the replica's `LedgerReads`, its turn among the other ledger reads. */
  constructor(ledger: LedgerCollection | LedgerReads, limits: StatementLimits = DEFAULT_STATEMENT_LIMITS) {
    this.reads = ledger instanceof LedgerReads ? ledger : new LedgerReads(ledger, limits);
  }

  /** `filter`: only the entries it keeps (api/ledger-filters.ts); the cursor pages through those. */
  async page(accountId: string, limit: number, before?: number, filter: StatementFilter = {}): Promise<StatementPage> {
    return this.reads.run((find) => read(find, statementQuery(accountId, filter), limit, before));
  }
}

/** The statement's own query: what the filter keeps, its partition left out, newest first as a statement lists them. */
async function entriesOf(find: LedgerFind, filter: Filter<LedgerDoc>, limit: number): Promise<LedgerDoc[]> {
  return (await find(filter, limit, { partition: 0 })).sort(newestFirst);
}

/** A page of the entries `entries` matches, strictly before the offset `before` when given. */
async function read(find: LedgerFind, entries: Filter<LedgerDoc>, limit: number, before: number | undefined): Promise<StatementPage> {
  const filter = before === undefined ? entries : { ...entries, offset: { $lt: before } };
  const docs = await entriesOf(find, filter, limit + 1);
  if (docs.length <= limit) return { entries: docs };
  const last = docs[limit - 1]!.offset;
  let page = docs.slice(0, limit);
  let more = true;
  if (docs[limit]!.offset === last) {
    // The page would end inside an offset: take the whole group, then see whether anything is older.
    const group = await entriesOf(find, { ...entries, offset: last }, 0);
    page = [...page.filter((d) => d.offset !== last), ...group].sort(newestFirst);
    more = (await entriesOf(find, { ...entries, offset: { $lt: last } }, 1)).length > 0;
  }
  return more ? { entries: page, next: encodeCursor(last) } : { entries: page };
}

// The filters the api's reads of an account's history give MongoDB. Every one
// starts with the account's equality, so that the statement index
// `{accountId: 1, offset: -1}` serves it on either server: MongoDB walks the
// account's range of the index, and FerretDB, which narrows a read only by
// top-level equalities through the index the field leads
// (scripts/ferretdb/patches), searches the index for the account's entries.
// What else a filter says only narrows those entries: it needs no index of its
// own, and gets none, since each index costs every insert
// (docs/embedded-database.md). test/integration/indexes.test.ts reads the
// plans of these filters on both servers.
import type { Filter } from 'mongodb';
import type { LEDGER_DOC_STATUSES, LEDGER_DOC_TYPES, LedgerDoc } from '../common/types.js';

export type LedgerDocType = (typeof LEDGER_DOC_TYPES)[number];
export type LedgerDocStatus = (typeof LEDGER_DOC_STATUSES)[number];

/** What a statement may be narrowed to. */
export interface StatementFilter {
  /** Only the entries whose write carried this reference. */
  reference?: string;
  /** Only entries of these types (one or more). */
  types?: readonly LedgerDocType[];
  /** Only entries with these statuses (one or more). */
  statuses?: readonly LedgerDocStatus[];
  /** Only entries decided at or after this time, in ms since the epoch. */
  from?: number;
  /** Only entries decided before this time, in ms since the epoch. */
  to?: number;
}

/** Times of decision in a range: `$gte` from, `$lt` to, `$lte` notAfter, each when given. */
export interface DecisionTimes {
  $gte?: number;
  $lt?: number;
  $lte?: number;
}

/**
 * Documents decided within `times` by the log clock: by `decidedAt`, or, for
 * a document written before it was recorded, by `receivedAt`
 * (common/ledger-outcome.ts `decidedAtOf`, which reads them the same way). A
 * top-level `$or`, which FerretDB leaves to its own filtering of the
 * account's entries and MongoDB checks on the entries its index scan fetches.
 */
export function decidedWithin(times: DecisionTimes): Filter<LedgerDoc> {
  return { $or: [{ decidedAt: { ...times } }, { decidedAt: { $exists: false }, receivedAt: { ...times } }] };
}

/** One value as an equality, which FerretDB passes down to SQLite; several as `$in`, which it checks itself. */
function oneOf<T extends string>(values: readonly T[]): T | { $in: T[] } {
  return values.length === 1 ? values[0]! : { $in: [...new Set(values)] };
}

/**
 * The entries of `accountId` that `filter` keeps. The account's equality
 * leads; a reference, a single type or a single status are equalities too,
 * which FerretDB checks in SQLite on the account's entries; lists of types or
 * statuses and the time range are checked on the entries read.
 */
export function statementQuery(accountId: string, filter: StatementFilter = {}): Filter<LedgerDoc> {
  const query: Filter<LedgerDoc> = { accountId };
  if (filter.reference !== undefined) query.reference = filter.reference;
  if (filter.types !== undefined && filter.types.length > 0) query.type = oneOf(filter.types);
  if (filter.statuses !== undefined && filter.statuses.length > 0) query.status = oneOf(filter.statuses);
  const times: DecisionTimes = {};
  if (filter.from !== undefined) times.$gte = filter.from;
  if (filter.to !== undefined) times.$lt = filter.to;
  return Object.keys(times).length > 0 ? { ...query, ...decidedWithin(times) } : query;
}

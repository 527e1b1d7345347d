// The ledger's collections and their indexes.
import type { Db } from 'mongodb';
import type { LedgerDoc } from '../common/types.js';

const STATEMENT_INDEX = 'account_offset';
/** Each id's decisions: a repeat's first outcome (consumer/id-lookup.ts) and `GET /v1/transactions/:id` after Redis. */
const ID_INDEX = 'id';
/** The cancels and lapses naming a request: what became of it. */
const REQUEST_INDEX = 'request_id';

export function collections(db: Db) {
  return {
    transactions: db.collection<LedgerDoc>('transactions'),
  };
}

/** FerretDB answers buildInfo with its own version beside the MongoDB one it speaks for. */
export async function isFerretDb(db: Db): Promise<boolean> {
  const info = await db.admin().command({ buildInfo: 1 });
  return 'ferretdbVersion' in info;
}

/**
 * Idempotent. Statements read `{accountId: 1, offset: -1}`: MongoDB walks it in
 * order; FerretDB, whose SQLite backend searches indexes with the patch in
 * scripts/ferretdb/patches, reads the account's entries through it and sorts
 * them itself. Lookups of an id read `{id: 1}` and of a request's fate
 * `{requestId: 1}`, each led by the field the query's equality names: FerretDB
 * narrows a read only by a top-level equality, and only through the index
 * that field leads, so these read an id's few documents where an index led by
 * `accountId` would read the account's whole history. Each pays for it on
 * every insert.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  const { transactions } = collections(db);
  await transactions.createIndex({ accountId: 1, offset: -1 }, { name: STATEMENT_INDEX });
  await transactions.createIndex({ id: 1 }, { name: ID_INDEX });
  await transactions.createIndex({ requestId: 1 }, { name: REQUEST_INDEX });
}

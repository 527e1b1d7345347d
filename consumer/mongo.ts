// The ledger's collections and their indexes.
import type { Db, IndexSpecification } from 'mongodb';
import type { LedgerDoc } from '../common/types.js';

export interface LedgerIndex {
  readonly name: string;
  readonly key: IndexSpecification;
}

/**
 * The indexes of `transactions` besides `_id`, by what each serves:
 * - `statement`: a statement's pages, an account's entries by offset;
 * - `id`: each id's decisions, a repeat's first outcome (consumer/id-lookup.ts)
 *   and `GET /v1/transactions/:id` after Redis;
 * - `request`: the cancels and lapses naming a request, what became of it.
 */
export const LEDGER_INDEXES = {
  statement: { name: 'account_offset', key: { accountId: 1, offset: -1 } },
  id: { name: 'id', key: { id: 1 } },
  request: { name: 'request_id', key: { requestId: 1 } },
} as const satisfies Record<string, LedgerIndex>;

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
 * every insert (`npm run bench -- --phases index-cost` measures how much).
 */
export async function ensureIndexes(db: Db): Promise<void> {
  const { transactions } = collections(db);
  for (const index of Object.values(LEDGER_INDEXES)) await transactions.createIndex(index.key, { name: index.name });
}

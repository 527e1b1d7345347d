// The ledger's collections and their indexes.
import type { Db } from 'mongodb';
import type { LedgerDoc } from '../common/types.js';

const STATEMENT_INDEX = 'account_offset';

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
 * them itself. Either pays for it on every insert.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  await collections(db).transactions.createIndex({ accountId: 1, offset: -1 }, { name: STATEMENT_INDEX });
}

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
 * Idempotent. MongoDB serves statements from `{accountId: 1, offset: -1}`.
 * FerretDB 1.24 scans for every query whatever its indexes, yet maintains
 * each index on every insert (about 15% of its insert throughput, measured
 * with 1,000-document insertMany), so on FerretDB the index is not kept.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  const c = collections(db);
  if (await isFerretDb(db)) {
    await c.transactions.dropIndex(STATEMENT_INDEX).catch(() => undefined);
    return;
  }
  await c.transactions.createIndex({ accountId: 1, offset: -1 }, { name: STATEMENT_INDEX });
}

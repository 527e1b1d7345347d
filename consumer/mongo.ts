// The ledger's collections and their indexes.
import type { Db } from 'mongodb';
import type { LedgerDoc } from '../common/types.js';

export function collections(db: Db) {
  return {
    transactions: db.collection<LedgerDoc>('transactions'),
  };
}

/** Idempotent; MongoDB uses it for statements (FerretDB scans anyway). */
export async function ensureIndexes(db: Db): Promise<void> {
  const c = collections(db);
  await c.transactions.createIndex({ accountId: 1, offset: -1 }, { name: 'account_offset' });
}

// The ledger's collections and their indexes.
import type { Db } from 'mongodb';
import type { LedgerDoc } from '../common/types.js';
import type { SnapshotChunk } from './snapshots.js';

export function collections(db: Db) {
  return {
    transactions: db.collection<LedgerDoc>('transactions'),
    snapshots: db.collection<SnapshotChunk>('snapshots'),
  };
}

/** Idempotent; MongoDB uses them for statements and snapshot look-ups (FerretDB scans anyway). */
export async function ensureIndexes(db: Db): Promise<void> {
  const c = collections(db);
  await c.transactions.createIndex({ accountId: 1, offset: -1 }, { name: 'account_offset' });
  await c.snapshots.createIndex({ partition: 1, offset: -1 }, { name: 'partition_offset' });
}

// Direct reads of the ledger in MongoDB, for assertions on what was written.
// Ledger inserts follow the answers by a few ms, so reads wait with a deadline.
import { MongoClient } from 'mongodb';
import { readConfig } from '../../common/config.js';
import type { LedgerDoc } from '../../common/types.js';
import { waitFor } from './stack.js';

const config = readConfig();
let client: MongoClient | undefined;

export async function ledger() {
  client ??= await MongoClient.connect(config.mongoUri, { serverSelectionTimeoutMS: 5000 });
  return client.db(config.mongoDb).collection<LedgerDoc>('transactions');
}

/** The account's ledger documents in log order, once at least `atLeast` are there. */
export async function ledgerDocs(accountId: string, atLeast: number): Promise<LedgerDoc[]> {
  const c = await ledger();
  let docs: LedgerDoc[] = [];
  await waitFor(
    async () => {
      docs = await c.find({ accountId }).toArray();
      return docs.length >= atLeast;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: `${atLeast} ledger documents of ${accountId}` },
  );
  return docs.sort((x, y) => x.offset - y.offset);
}

export async function closeLedger(): Promise<void> {
  await client?.close();
  client = undefined;
}

// What the tests of the snapshot contract (test/unit/snapshot-format.test.ts)
// and of the snapshot store (test/unit/snapshot-store.test.ts) share: a
// partition with every kind of decision, its remembered ids in the shapes
// older formats held them, and just what the store uses of a database.
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import { Binary, type Db } from 'mongodb';
import { ledgerId } from '../../consumer/ledger.js';
import { PartitionLedger, type PartitionSnapshot } from '../../consumer/partition.js';
import { encodeMeta } from '../../consumer/snapshot-format.js';
import { snapshotCollectionName } from '../../consumer/snapshots.js';
import { remember } from '../../common/remembered.js';
import { deposit, request, withdraw } from './tx.js';

export const DAY = 86_400_000;
export const deflate = promisify(deflateRaw);

/** A partition with accounts, a settled hold and a denied request: every kind of decision. */
export function partition(): PartitionLedger {
  const p = new PartitionLedger(0, DAY);
  const msgs = [deposit('d', 'acc', 100), request('r', 'acc', 60), withdraw('w', 'acc', 60, { requestId: 'r' }), request('big', 'b', 1_000)];
  msgs.forEach((m, i) => p.apply(m, i));
  return p;
}

/** The remembered ids as formats 2 and 3 held them: each decision packed (of a partition that let go of none). */
export function packedSeen(p: PartitionLedger): [string, string][] {
  return [...p.outcomes()].map((o) => [ledgerId(o.accountId, o.id), remember(o)]);
}

/** The remembered ids as format 1 held them before 39fb87c packed them. */
export function unpackedSeen(p: PartitionLedger): unknown[] {
  return [...p.outcomes()].map((o) => [ledgerId(o.accountId, o.id), { fp: 'ignored', outcome: o, at: o.decidedAt }]);
}

/** What a chunk of formats 1 to 3 reads as: its ids with their decision times. */
export function idsOf(p: PartitionLedger): [string, number][] {
  return [...p.outcomes()].map((o) => [ledgerId(o.accountId, o.id), o.decidedAt]);
}

/** Saves `snapshot` as the code of `format` (2 or 3) saved it: its accounts, and `seen`, the ids it remembered with their decisions. */
export async function saveInSeenFormat(db: Db, format: number, snapshot: PartitionSnapshot, seen: [string, string][], base?: number): Promise<void> {
  const collection = db.collection(snapshotCollectionName(snapshot.partition, snapshot.offset, base));
  const pack = async (value: unknown) => new Binary(await deflate(JSON.stringify(value)));
  await collection.insertOne({ _id: 0, format, accounts: await pack(snapshot.accounts), seen: await pack(seen) } as never);
  await collection.insertOne({ ...encodeMeta(snapshot, 1), format } as never);
}

/** Just what SnapshotStore uses of a database, in memory. */
export function memoryDb(): { db: Db; collections: Map<string, Map<unknown, object>> } {
  const collections = new Map<string, Map<unknown, object>>();
  const docsOf = (name: string) => collections.get(name) ?? collections.set(name, new Map()).get(name)!;
  const db = {
    collection: (name: string) => ({
      insertOne: async (doc: { _id: unknown }) => {
        if (docsOf(name).has(doc._id)) throw Object.assign(new Error('duplicate key'), { code: 11000 });
        docsOf(name).set(doc._id, doc);
      },
      find: () => ({ toArray: async () => [...docsOf(name).values()] }),
      drop: async () => collections.delete(name),
    }),
    listCollections: () => ({ toArray: async () => [...collections.keys()].map((name) => ({ name })) }),
  };
  return { db: db as unknown as Db, collections };
}

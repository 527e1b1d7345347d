// Snapshots of a partition's state, so a new owner rebuilds it from the newest
// snapshot plus a replay of the log since, never from a scan of the ledger.
//
// Each snapshot is a collection of its own, `snapshot.p<partition>.o<offset>`:
// chunks well under the 16 MB document limit, then a `meta` document written
// last, so a snapshot counts only once it is complete. Old snapshots are pruned
// by dropping their collections: on the embedded server every delete is a
// scan, and a scan of large snapshot documents costs more than the inserts.
import type { Db } from 'mongodb';
import type { PartitionSnapshot } from './partition.js';

// About 300 bytes an entry as JSON: chunks of a few MB.
const ENTRIES_PER_CHUNK = 10000;
const NAME = /^snapshot\.p(\d+)\.o(\d+)$/;

/** State travels as JSON text: cheap to encode, and FerretDB refuses nested arrays. */
interface Chunk {
  _id: number;
  accounts: string;
  seen: string;
}

interface Meta {
  _id: 'meta';
  partition: number;
  offset: number;
  clock: number;
  chunks: number;
}

export function snapshotCollectionName(partition: number, offset: number): string {
  return `snapshot.p${partition}.o${offset}`;
}

export class SnapshotStore {
  /** Called once a snapshot is saved whole (metrics). */
  onSaved: ((partition: number, offset: number) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly keep: number,
  ) {}

  async save(s: PartitionSnapshot): Promise<void> {
    const collection = this.db.collection<Chunk | Meta>(snapshotCollectionName(s.partition, s.offset));
    const chunks = Math.max(1, Math.ceil(Math.max(s.accounts.length, s.seen.length) / ENTRIES_PER_CHUNK));
    const docs: Chunk[] = [];
    for (let i = 0; i < chunks; i++) {
      const from = i * ENTRIES_PER_CHUNK;
      docs.push({
        _id: i,
        accounts: JSON.stringify(s.accounts.slice(from, from + ENTRIES_PER_CHUNK)),
        seen: JSON.stringify(s.seen.slice(from, from + ENTRIES_PER_CHUNK)),
      });
    }
    const meta: Meta = { _id: 'meta', partition: s.partition, offset: s.offset, clock: s.clock, chunks };
    try {
      // One chunk per call keeps each insert's memory bounded.
      for (const doc of docs) await collection.insertOne(doc);
      await collection.insertOne(meta);
    } catch (err) {
      // Another owner (a replay, or a stale one) wrote the same snapshot: it is identical.
      if ((err as { code?: number }).code !== 11000) throw err;
    }
    this.onSaved?.(s.partition, s.offset);
    await this.prune(s.partition);
  }

  /** The newest complete snapshot of a partition, or undefined when there is none. */
  async load(partition: number): Promise<PartitionSnapshot | undefined> {
    for (const offset of await this.offsets(partition)) {
      const docs = await this.db.collection<Chunk | Meta>(snapshotCollectionName(partition, offset)).find({}).toArray();
      const meta = docs.find((d): d is Meta => d._id === 'meta');
      const chunks = docs.filter((d): d is Chunk => d._id !== 'meta').sort((a, b) => a._id - b._id);
      if (!meta || chunks.length !== meta.chunks) continue;
      return {
        partition,
        offset,
        clock: meta.clock,
        accounts: chunks.flatMap((c) => JSON.parse(c.accounts) as PartitionSnapshot['accounts']),
        seen: chunks.flatMap((c) => JSON.parse(c.seen) as PartitionSnapshot['seen']),
      };
    }
    return undefined;
  }

  /** Offsets of the partition's snapshots, newest first. */
  private async offsets(partition: number): Promise<number[]> {
    const names = await this.db.listCollections({}, { nameOnly: true }).toArray();
    const offsets: number[] = [];
    for (const { name } of names) {
      const m = NAME.exec(name);
      if (m && Number(m[1]) === partition) offsets.push(Number(m[2]));
    }
    return offsets.sort((a, b) => b - a);
  }

  private async prune(partition: number): Promise<void> {
    const offsets = await this.offsets(partition);
    for (const offset of offsets.slice(this.keep)) {
      await this.db.collection(snapshotCollectionName(partition, offset)).drop().catch(() => undefined);
    }
  }
}

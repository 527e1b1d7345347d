// Snapshots of a partition's state, so a new owner rebuilds it from the newest
// snapshot plus a replay of the log since, never from a scan of the ledger.
// A snapshot is inserted as chunks well under MongoDB's 16 MB document limit;
// it counts only once every chunk is there, and older ones are pruned.
import type { Collection } from 'mongodb';
import type { PartitionSnapshot } from './partition.js';
import { onlyDuplicates } from './ledger-writer.js';

const ENTRIES_PER_CHUNK = 2000;

export interface SnapshotChunk {
  _id: string;
  partition: number;
  offset: number;
  chunk: number;
  chunks: number;
  clock: number;
  accounts: PartitionSnapshot['accounts'];
  seen: PartitionSnapshot['seen'];
}

export class SnapshotStore {
  constructor(
    private readonly collection: Collection<SnapshotChunk>,
    private readonly keep: number,
  ) {}

  async save(s: PartitionSnapshot): Promise<void> {
    const chunks = Math.max(1, Math.ceil(Math.max(s.accounts.length, s.seen.length) / ENTRIES_PER_CHUNK));
    const docs: SnapshotChunk[] = [];
    for (let chunk = 0; chunk < chunks; chunk++) {
      const from = chunk * ENTRIES_PER_CHUNK;
      docs.push({
        _id: `${s.partition}:${s.offset}:${chunk}`,
        partition: s.partition,
        offset: s.offset,
        chunk,
        chunks,
        clock: s.clock,
        accounts: s.accounts.slice(from, from + ENTRIES_PER_CHUNK),
        seen: s.seen.slice(from, from + ENTRIES_PER_CHUNK),
      });
    }
    try {
      await this.collection.insertMany(docs, { ordered: false });
    } catch (err) {
      // Another owner (a replay, or a stale one) wrote the same snapshot: it is identical.
      if (!onlyDuplicates(err)) throw err;
    }
    await this.prune(s.partition);
  }

  /** The newest complete snapshot of a partition, or undefined when there is none. */
  async load(partition: number): Promise<PartitionSnapshot | undefined> {
    const heads = await this.collection
      .find({ partition }, { projection: { offset: 1, chunks: 1 } })
      .toArray();
    const counts = new Map<number, { have: number; need: number }>();
    for (const h of heads) {
      const c = counts.get(h.offset) ?? { have: 0, need: h.chunks };
      c.have++;
      counts.set(h.offset, c);
    }
    const complete = [...counts].filter(([, c]) => c.have === c.need).map(([offset]) => offset);
    if (complete.length === 0) return undefined;
    const offset = Math.max(...complete);
    const chunks = await this.collection.find({ partition, offset }).toArray();
    chunks.sort((a, b) => a.chunk - b.chunk);
    return {
      partition,
      offset,
      clock: chunks[0]!.clock,
      accounts: chunks.flatMap((c) => c.accounts),
      seen: chunks.flatMap((c) => c.seen),
    };
  }

  private async prune(partition: number): Promise<void> {
    const offsets = await this.collection.distinct('offset', { partition });
    const sorted = (offsets as number[]).sort((a, b) => b - a);
    const oldestKept = sorted[this.keep - 1];
    if (oldestKept !== undefined && sorted.length > this.keep) {
      await this.collection.deleteMany({ partition, offset: { $lt: oldestKept } });
    }
  }
}

// Snapshots of a partition's state, so a new owner rebuilds it from the newest
// snapshot plus a replay of the log since, never from a scan of the ledger.
//
// Each snapshot is a collection of its own: `snapshot.p<partition>.o<offset>`
// holds the whole state, `snapshot.p<partition>.o<offset>.b<base>` a delta
// (the accounts changed, and the ids added to the partition's filter of the
// window, since the snapshot at offset <base>). A busy partition's filter
// outweighs what a snapshot interval adds to it, and it has far more accounts
// than an interval changes, so deltas keep each save small; every MAX_DELTAS
// saves one is whole again, so a load reads a short chain. The state at an offset is the
// same whoever computed it, so a base is named by its offset alone: any
// complete snapshot at that offset will do.
//
// Each collection holds chunks well under the 16 MB document limit, then a
// `meta` document written last, so a snapshot counts only once it is
// complete; a chain counts only when every link does. What the documents
// hold, and in which format, is the snapshot contract's
// (consumer/snapshot-format.ts). Chunks are deflated because a new owner's
// load of a busy partition's chain was mostly the embedded server's time to
// hand its bytes over (d31115c measured it). Old snapshots are pruned by
// dropping their collections: on the embedded server every delete is a scan,
// and a scan of large snapshot documents costs more than the inserts.
import type { Db } from 'mongodb';
import type { PartitionSnapshot } from './partition.js';
import {
  clockSourceOf,
  decodeChunk,
  deltaCarriesChangedAccountsOnly,
  encodeChunk,
  encodeMeta,
  formatOf,
  type SnapshotChunk,
  type SnapshotMeta,
} from './snapshot-format.js';
import { layDelta, mergedSnapshot, startMerge, type MergedSnapshot } from './snapshot-merge.js';

// An id is a short string and an account with its holds a few times that, so
// a chunk of this many entries, and a piece of the filter this long, stay
// below the 16 MB document limit together.
const ENTRIES_PER_CHUNK = 10000;
const FILTER_BYTES_PER_CHUNK = 8 * 1024 * 1024;
const NAME = /^snapshot\.p(\d+)\.o(\d+)(?:\.b(\d+))?$/;
/** Deltas in a row before a whole snapshot again: bounds the chain a load reads. */
export const MAX_DELTAS = 15;

export function snapshotCollectionName(partition: number, offset: number, base?: number): string {
  return `snapshot.p${partition}.o${offset}${base === undefined ? '' : `.b${base}`}`;
}

interface Link {
  name: string;
  offset: number;
  /** The offset of the snapshot this delta lies over; undefined for a whole one. */
  base: number | undefined;
}

/** The snapshots a delta may lie over: any at its base offset (always older, so a chain cannot loop). */
function basesOf(link: Link, links: Link[]): Link[] {
  return link.base === undefined ? [] : links.filter((l) => l.offset === link.base && l.offset < link.offset);
}

/** A loaded snapshot, and how many deltas lay over the whole one it came from. */
export interface LoadedSnapshot extends PartitionSnapshot {
  deltas: number;
}

/** A partition's newest chain merged, and the collection at its top. */
type Merged = MergedSnapshot & { name: string };

/** Marks the bottom of a chain that starts from the warmed state rather than from a collection. */
const WARMED = Symbol('warmed');
type ChainLink = PartitionSnapshot | typeof WARMED;

/** A chain (oldest first, maybe starting from the warmed state, which it extends in place) merged. */
function merge(top: string, chain: ChainLink[], warm: Merged | undefined, idWindowMs: number): Merged {
  const [bottom, ...over] = chain;
  const m: Merged = bottom === WARMED ? warm! : { ...startMerge(bottom!, idWindowMs), name: top };
  for (const delta of over as PartitionSnapshot[]) layDelta(m, delta);
  m.name = top;
  return m;
}

export class SnapshotStore {
  /** Called once a snapshot is saved whole (metrics). */
  onSaved: ((partition: number, offset: number) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly keep: number,
    /** The id window: what a snapshot saved without a filter (formats 1 to 3) sizes one for. */
    private readonly idWindowMs: number,
  ) {}

  /** Saves `s`: a whole snapshot, or (with `base`) a delta over the snapshot at offset `base`. */
  async save(s: PartitionSnapshot, base?: number): Promise<void> {
    const collection = this.db.collection<SnapshotChunk | SnapshotMeta>(snapshotCollectionName(s.partition, s.offset, base));
    const filter = s.filter === undefined ? undefined : Buffer.from(s.filter, 'base64');
    const entries = Math.max(s.accounts.length, s.ids.length);
    const chunks = Math.max(1, Math.ceil(entries / ENTRIES_PER_CHUNK), Math.ceil((filter?.length ?? 0) / FILTER_BYTES_PER_CHUNK));
    const docs: SnapshotChunk[] = [];
    for (let i = 0; i < chunks; i++) {
      const from = i * ENTRIES_PER_CHUNK;
      const to = from + ENTRIES_PER_CHUNK;
      const piece = filter?.subarray(i * FILTER_BYTES_PER_CHUNK, (i + 1) * FILTER_BYTES_PER_CHUNK);
      docs.push(await encodeChunk(i, { accounts: s.accounts.slice(from, to), ids: s.ids.slice(from, to), filter: piece }));
    }
    const meta = encodeMeta(s, chunks);
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

  /** The newest complete snapshot of a partition (a whole one merged with its deltas), or undefined. */
  load(partition: number): Promise<LoadedSnapshot | undefined> {
    return this.exclusive(partition, async () => {
      const merged = await this.newest(partition);
      // The owner holds the state from here on; the copy warmed for it is spent (merged in place).
      this.warmed.delete(partition);
      return merged && { ...mergedSnapshot(merged), deltas: merged.deltas };
    });
  }

  /**
   * For a member standing by: reads what is new in the partition's newest
   * chain and keeps the chain merged in memory, so that a takeover reads only
   * the snapshots saved since (a busy partition's chain is hundreds of
   * thousands of remembered ids, most of a takeover's time to parse). Kept
   * only while the member stands by (see `assigned`).
   */
  warm(partition: number): Promise<void> {
    return this.exclusive(partition, async () => {
      const merged = await this.newest(partition);
      if (merged && this.standby) this.warmed.set(partition, merged);
      else this.warmed.delete(partition);
    });
  }

  /**
   * Told on every assignment. A member given partitions stops standing by: it
   * keeps what it warmed for those (their loads come next) and drops the rest.
   */
  assigned(owned: number[]): void {
    this.standby = owned.length === 0;
    if (this.standby) return;
    for (const p of this.warmed.keys()) if (!owned.includes(p)) this.warmed.delete(p);
  }

  /** Assigned nothing by the group (not merely before the first assignment). */
  get standingBy(): boolean {
    return this.standby;
  }

  /** Partitions kept warm now (metrics, tests). */
  get warmPartitions(): number[] {
    return [...this.warmed.keys()];
  }

  private standby = false;
  private readonly warmed = new Map<number, Merged>();
  private readonly queues = new Map<number, Promise<unknown>>();

  /** One load or warm-up of a partition at a time: both merge the warmed state in place. */
  private exclusive<T>(partition: number, run: () => Promise<T>): Promise<T> {
    const result = (this.queues.get(partition) ?? Promise.resolve()).then(run, run);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(partition, settled);
    void settled.then(() => {
      if (this.queues.get(partition) === settled) this.queues.delete(partition);
    });
    return result;
  }

  private async newest(partition: number): Promise<Merged | undefined> {
    const warm = this.warmed.get(partition);
    const links = await this.links(partition);
    // The warmed state can stand for its top collection even after that was pruned.
    if (warm && !links.some((l) => l.name === warm.name)) links.push({ name: warm.name, offset: warm.offset, base: undefined });
    return this.firstComplete(partition, links, links, warm);
  }

  /**
   * The newest complete snapshot at or before `offset`: where a replay up to
   * the message at `offset` may start (docs/explanations.md). Undefined when
   * every snapshot kept is later (pruning keeps the newest few).
   */
  async loadAtOrBefore(partition: number, offset: number): Promise<PartitionSnapshot | undefined> {
    const links = await this.links(partition);
    const merged = await this.firstComplete(partition, links.filter((l) => l.offset <= offset), links);
    return merged && mergedSnapshot(merged);
  }

  /** The oldest complete snapshot at or after `offset` (the log's first record still held): where a replay of all the log holds may start. */
  async loadOldestFrom(partition: number, offset: number): Promise<PartitionSnapshot | undefined> {
    const links = await this.links(partition);
    const merged = await this.firstComplete(partition, links.filter((l) => l.offset >= offset).reverse(), links);
    return merged && mergedSnapshot(merged);
  }

  /** The first of `candidates` whose chain is complete, merged (over the warmed state, when its chain starts there). */
  private async firstComplete(partition: number, candidates: Link[], links: Link[], warm?: Merged): Promise<Merged | undefined> {
    const read = new Map<string, Promise<PartitionSnapshot | undefined>>();
    const readOnce = (name: string) => {
      if (!read.has(name)) read.set(name, this.read(partition, name));
      return read.get(name)!;
    };
    for (const top of candidates) {
      const chain = await this.chain(top, links, readOnce, warm?.name);
      if (chain) return merge(top.name, chain, warm, this.idWindowMs);
    }
    return undefined;
  }

  /** The whole snapshot under `link` and the deltas up to it, oldest first; undefined if a link is missing. */
  private async chain(
    link: Link,
    links: Link[],
    read: (name: string) => Promise<PartitionSnapshot | undefined>,
    warmName: string | undefined,
  ): Promise<ChainLink[] | undefined> {
    if (link.name === warmName) return [WARMED];
    const snap = await read(link.name);
    if (!snap) return undefined;
    if (link.base === undefined) return [snap];
    // Any complete snapshot at the base offset will do: the warmed one first, it costs no read.
    const bases = basesOf(link, links).sort((a, b) => Number(b.name === warmName) - Number(a.name === warmName));
    for (const under of bases) {
      const below = await this.chain(under, links, read, warmName);
      if (below) return [...below, snap];
    }
    return undefined;
  }

  private async read(partition: number, name: string): Promise<PartitionSnapshot | undefined> {
    const docs = await this.db.collection<SnapshotChunk | SnapshotMeta>(name).find({}).toArray();
    const meta = docs.find((d): d is SnapshotMeta => d._id === 'meta');
    const chunks = docs.filter((d): d is SnapshotChunk => d._id !== 'meta').sort((a, b) => a._id - b._id);
    if (!meta) return undefined;
    // Before counting its chunks: a newer format might count them otherwise.
    const format = formatOf(meta, name);
    if (chunks.length !== meta.chunks) return undefined;
    const accounts: PartitionSnapshot['accounts'] = [];
    const ids: PartitionSnapshot['ids'] = [];
    const filter: Uint8Array[] = [];
    for (const c of chunks) {
      const state = await decodeChunk(c, `${name} chunk ${c._id}`);
      for (const a of state.accounts) accounts.push(a);
      for (const e of state.ids) ids.push(e);
      if (state.filter) filter.push(state.filter);
    }
    const snapshot: PartitionSnapshot = { partition, offset: meta.offset, clock: meta.clock, accounts, ids };
    if (filter.length > 0) snapshot.filter = Buffer.concat(filter).toString('base64');
    const clockSource = clockSourceOf(meta, name);
    if (clockSource !== undefined) snapshot.clockSource = clockSource;
    // A delta's meaning is its format's: a format 2 delta carries every account whole.
    if (NAME.exec(name)?.[3] !== undefined && deltaCarriesChangedAccountsOnly(format)) snapshot.changedAccountsOnly = true;
    return snapshot;
  }

  /** The partition's snapshots, newest first. */
  private async links(partition: number): Promise<Link[]> {
    const names = await this.db.listCollections({}, { nameOnly: true }).toArray();
    const links: Link[] = [];
    for (const { name } of names) {
      const m = NAME.exec(name);
      if (m && Number(m[1]) === partition) links.push({ name, offset: Number(m[2]), base: m[3] === undefined ? undefined : Number(m[3]) });
    }
    return links.sort((a, b) => b.offset - a.offset || (a.base === undefined ? -1 : 1));
  }

  /** Keeps the newest `keep` snapshots and every snapshot they lie over; drops the rest. */
  private async prune(partition: number): Promise<void> {
    const links = await this.links(partition);
    const kept = new Set<string>();
    const keepWithBases = (link: Link) => {
      if (kept.has(link.name)) return;
      kept.add(link.name);
      basesOf(link, links).forEach(keepWithBases);
    };
    links.slice(0, this.keep).forEach(keepWithBases);
    for (const link of links) {
      if (!kept.has(link.name)) await this.db.collection(link.name).drop().catch(() => undefined);
    }
  }
}

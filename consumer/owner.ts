// What this process knows about one partition it owns: the state machine,
// where the state stands in the log, and when it was last snapshotted. Every
// change of that position goes through the owner's own methods: `place`
// answers what to do with a batch, `decided` and `inserted` record its
// progress, `readModel` what Redis holds of it, and the snapshot methods keep
// the schedule.
import { PartitionLedger } from './partition.js';
import type { PartitionSnapshot } from './partition.js';
import { ReadModelKnowledge, type WrittenMark } from './read-model-knowledge.js';
import { MAX_DELTAS, type LoadedSnapshot } from './snapshots.js';

/** A snapshot taken and not saved yet, with the saved one it is a delta over (if it is one). */
export interface TakenSnapshot {
  snapshot: PartitionSnapshot;
  base: number | undefined;
}

/**
 * What to do with a batch whose first record is at a given offset:
 * - `apply`: it starts where the state stands; decide it.
 * - `gap`: it starts after `expected`, whose records are gone from the log; decide it anyway.
 * - `seek`: the first batch after a load or resume, not at the state's offset; send the consumer to `offset`.
 * - `skip`: it starts before the state (fetched again); send the consumer to `offset` and decide nothing.
 */
export type Placement =
  | { action: 'apply' }
  | { action: 'gap'; expected: number }
  | { action: 'seek'; offset: number }
  | { action: 'skip'; offset: number };

/** Whether a decided batch still has documents to write, or lay wholly before what was written already. */
export type BatchProgress = 'to write' | 'already written';

/** Slots of the snapshot interval that partitions' snapshots are spread over. */
export const SNAPSHOT_SLOTS = 12;

export class PartitionOwner {
  /** The next offset the state expects: it covers every message before it. */
  #nextOffset: number;
  /** Whether the consumer was already sent to `nextOffset` once (a replay or a skip). */
  #positioned = false;
  /** The group's committed offset when this owner took over: what lies before it is already written. */
  #writtenBefore = 0;
  /** Every ledger document before this offset is inserted. */
  #insertedBefore: number;
  #lastSnapshotAt: number;
  #appliedSinceSnapshot = 0;
  #snapshotting = false;
  /** Offset of the last snapshot saved or loaded, which the next one may be a delta over; undefined: next is whole. */
  #snapshotBase: number | undefined;
  /** Deltas between the last whole snapshot and `snapshotBase`. */
  #deltas = 0;
  /** The next snapshot is whole whatever `snapshotBase` says (see `resume`). */
  #wholeNext = false;
  /** What Redis holds of the partition. */
  readonly readModel = new ReadModelKnowledge();

  constructor(
    readonly ledger: PartitionLedger,
    snapshotOffset: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#nextOffset = snapshotOffset;
    this.#insertedBefore = snapshotOffset;
    this.#lastSnapshotAt = now();
  }

  static fromSnapshot(partition: number, snapshot: LoadedSnapshot | undefined, idWindowMs: number): PartitionOwner {
    if (!snapshot) return new PartitionOwner(new PartitionLedger(partition, idWindowMs), 0);
    const owner = new PartitionOwner(PartitionLedger.restore(snapshot, idWindowMs), snapshot.offset);
    owner.#snapshotBase = snapshot.offset;
    owner.#deltas = snapshot.deltas;
    return owner;
  }

  get nextOffset(): number {
    return this.#nextOffset;
  }

  get positioned(): boolean {
    return this.#positioned;
  }

  get writtenBefore(): number {
    return this.#writtenBefore;
  }

  get insertedBefore(): number {
    return this.#insertedBefore;
  }

  get lastSnapshotAt(): number {
    return this.#lastSnapshotAt;
  }

  /** Every ledger document the state has decided is inserted. */
  get allInserted(): boolean {
    return this.#insertedBefore === this.#nextOffset;
  }

  /**
   * Where a batch starting at `firstOffset` stands against the state. kafkajs
   * starts a partition at the committed offset while the state stands at its
   * snapshot's, so the first batch after a load or `resume` positions the
   * consumer, and its first offset is taken as the committed one.
   */
  place(firstOffset: number): Placement {
    if (!this.#positioned) {
      this.#positioned = true;
      this.#writtenBefore = firstOffset;
      return firstOffset === this.#nextOffset ? { action: 'apply' } : { action: 'seek', offset: this.#nextOffset };
    }
    // Already decided by this owner (a batch fetched again), or the log is shorter than the state
    // (Kafka's data wiped without the database's): never decide a record twice.
    if (firstOffset < this.#nextOffset) return { action: 'skip', offset: this.#nextOffset };
    // Records before `firstOffset` are gone from the log (retention): nothing left to replay.
    if (firstOffset > this.#nextOffset) return { action: 'gap', expected: this.#nextOffset };
    return { action: 'apply' };
  }

  /**
   * A batch up to `lastOffset` was decided, `applied` of its records applied.
   * A batch wholly before `writtenBefore` rebuilt the state only: its
   * documents are in the ledger already, so it counts as inserted.
   */
  decided(lastOffset: number, applied: number): BatchProgress {
    this.#nextOffset = lastOffset + 1;
    this.#appliedSinceSnapshot += applied;
    if (lastOffset >= this.#writtenBefore) return 'to write';
    this.#insertedBefore = lastOffset + 1;
    return 'already written';
  }

  /** Every ledger document before `nextOffset` is in the ledger now. */
  inserted(nextOffset: number): void {
    this.#insertedBefore = nextOffset;
  }

  /**
   * Whether the state has caught up with the log: nothing left in it below
   * `highWatermark`, or past everything acknowledged before this owner took over.
   */
  caughtUp(highWatermark: number): boolean {
    return this.#nextOffset >= highWatermark || (this.#positioned && this.#nextOffset >= this.#writtenBefore);
  }

  /**
   * What a read-model write of the batch through `lastOffset` (or a check,
   * without it) asks of Redis. Whoever owned the partition before this owner
   * wrote what lies before `writtenBefore` (before the state's offset, until
   * the first batch positions the owner).
   */
  readModelMark(lastOffset = -1): WrittenMark {
    return this.readModel.mark((this.#positioned ? this.#writtenBefore : this.#nextOffset) - 1, lastOffset);
  }

  /**
   * The group gave the partition to this member again. The state at
   * `nextOffset` is the log's whoever applied the partition meanwhile, as a
   * snapshot at that offset would be, so it is kept and positioned as a loaded
   * one is: the consumer is sent back to `nextOffset` from the committed
   * offset (behind it while inserts are in flight; ahead of it if another
   * member applied the partition meanwhile, and what lies between rebuilds
   * state only). Such a member may also have saved and pruned snapshots, so
   * the base of this owner's next delta may be gone: the next one is whole,
   * and Redis is whole only if that member wrote all of it.
   */
  resume(): void {
    this.#positioned = false;
    this.#wholeNext = true;
    this.readModel.resumed();
  }

  /** Takes the next snapshot: a delta over the last one saved, or whole every MAX_DELTAS, after a failed save or after `resume`. */
  takeSnapshot(): TakenSnapshot {
    this.#snapshotting = true;
    this.#appliedSinceSnapshot = 0;
    const base = !this.#wholeNext && this.#snapshotBase !== undefined && this.#deltas < MAX_DELTAS ? this.#snapshotBase : undefined;
    this.#wholeNext = false;
    return { snapshot: this.ledger.takeSnapshot(this.#nextOffset, base === undefined), base };
  }

  /** The snapshot was saved (or not): the next is a delta over it, or whole. */
  snapshotDone(taken: TakenSnapshot, saved: boolean): void {
    if (saved) {
      this.#deltas = taken.base === undefined ? 0 : this.#deltas + 1;
      this.#snapshotBase = taken.snapshot.offset;
    } else {
      // The seen changes it carried are in no saved snapshot: only a whole one covers them now.
      this.#snapshotBase = undefined;
    }
    this.#lastSnapshotAt = this.now();
    this.#snapshotting = false;
  }

  /**
   * Owners loaded together (every assignment loads all of a member's
   * partitions at once) would all fall due in the same second, and their
   * saves would come as one burst per interval: each partition's first
   * snapshot comes early by its own slot of the interval instead.
   */
  staggerSnapshots(intervalMs: number): void {
    this.#lastSnapshotAt -= Math.floor(((this.ledger.partition % SNAPSHOT_SLOTS) / SNAPSHOT_SLOTS) * intervalMs);
  }

  snapshotDue(intervalMs: number): boolean {
    return !this.#snapshotting && this.#appliedSinceSnapshot > 0 && this.now() - this.#lastSnapshotAt >= intervalMs;
  }
}

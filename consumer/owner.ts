// What this process knows about one partition it owns: the state machine,
// where the state stands in the log, and when it was last snapshotted.
import { PartitionLedger } from './partition.js';
import type { PartitionSnapshot } from './partition.js';
import { MAX_DELTAS, type LoadedSnapshot } from './snapshots.js';

/** A snapshot taken and not saved yet, with the saved one it is a delta over (if it is one). */
export interface TakenSnapshot {
  snapshot: PartitionSnapshot;
  base: number | undefined;
}

/** Slots of the snapshot interval that partitions' snapshots are spread over. */
export const SNAPSHOT_SLOTS = 12;

export class PartitionOwner {
  /** The next offset the state expects: it covers every message before it. */
  nextOffset: number;
  /** Whether the consumer was already sent to `nextOffset` once (a replay or a skip). */
  positioned = false;
  /** The group's committed offset when this owner took over: what lies before it is already written. */
  writtenBefore = 0;
  /** Every ledger document before this offset is inserted. */
  insertedBefore = 0;
  /** Whether Redis is known to hold this partition's whole state. */
  readModelWhole = false;
  lastSnapshotAt: number;
  appliedSinceSnapshot = 0;
  snapshotting = false;
  /** Offset of the last snapshot saved or loaded, which the next one may be a delta over; undefined: next is whole. */
  snapshotBase: number | undefined;
  /** Deltas between the last whole snapshot and `snapshotBase`. */
  deltas = 0;
  /** The next snapshot is whole whatever `snapshotBase` says (see `resume`). */
  private wholeNext = false;

  constructor(
    readonly ledger: PartitionLedger,
    snapshotOffset: number,
  ) {
    this.nextOffset = snapshotOffset;
    this.insertedBefore = snapshotOffset;
    this.lastSnapshotAt = Date.now();
  }

  static fromSnapshot(partition: number, snapshot: LoadedSnapshot | undefined, idWindowMs: number): PartitionOwner {
    if (!snapshot) return new PartitionOwner(new PartitionLedger(partition, idWindowMs), 0);
    const owner = new PartitionOwner(PartitionLedger.restore(snapshot, idWindowMs), snapshot.offset);
    owner.snapshotBase = snapshot.offset;
    owner.deltas = snapshot.deltas;
    return owner;
  }

  /**
   * The group gave the partition to this member again. The state at
   * `nextOffset` is the log's whoever applied the partition meanwhile, as a
   * snapshot at that offset would be, so it is kept and positioned as a loaded
   * one is: the consumer is sent back to `nextOffset` from the committed
   * offset (behind it while inserts are in flight; ahead of it if another
   * member applied the partition meanwhile, and what lies between rebuilds
   * state only). Such a member may also have saved and pruned snapshots, so
   * the base of this owner's next delta may be gone: the next one is whole.
   */
  resume(): void {
    this.positioned = false;
    this.wholeNext = true;
  }

  /** Takes the next snapshot: a delta over the last one saved, or whole every MAX_DELTAS, after a failed save or after `resume`. */
  takeSnapshot(): TakenSnapshot {
    this.snapshotting = true;
    this.appliedSinceSnapshot = 0;
    const base = !this.wholeNext && this.snapshotBase !== undefined && this.deltas < MAX_DELTAS ? this.snapshotBase : undefined;
    this.wholeNext = false;
    return { snapshot: this.ledger.takeSnapshot(this.nextOffset, base === undefined), base };
  }

  /** The snapshot was saved (or not): the next is a delta over it, or whole. */
  snapshotDone(taken: TakenSnapshot, saved: boolean): void {
    if (saved) {
      this.deltas = taken.base === undefined ? 0 : this.deltas + 1;
      this.snapshotBase = taken.snapshot.offset;
    } else {
      // The seen changes it carried are in no saved snapshot: only a whole one covers them now.
      this.snapshotBase = undefined;
    }
    this.lastSnapshotAt = Date.now();
    this.snapshotting = false;
  }

  /**
   * Owners loaded together (every assignment loads all of a member's
   * partitions at once) would all fall due in the same second, and their
   * saves would come as one burst per interval: each partition's first
   * snapshot comes early by its own slot of the interval instead.
   */
  staggerSnapshots(intervalMs: number): void {
    this.lastSnapshotAt -= Math.floor(((this.ledger.partition % SNAPSHOT_SLOTS) / SNAPSHOT_SLOTS) * intervalMs);
  }

  snapshotDue(intervalMs: number): boolean {
    return !this.snapshotting && this.appliedSinceSnapshot > 0 && Date.now() - this.lastSnapshotAt >= intervalMs;
  }
}

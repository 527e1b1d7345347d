// What this process knows about one partition it owns: the state machine,
// where the state stands in the log, and when it was last snapshotted.
import { PartitionLedger } from './partition.js';
import type { PartitionSnapshot } from './partition.js';

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

  constructor(
    readonly ledger: PartitionLedger,
    snapshotOffset: number,
  ) {
    this.nextOffset = snapshotOffset;
    this.insertedBefore = snapshotOffset;
    this.lastSnapshotAt = Date.now();
  }

  static fromSnapshot(partition: number, snapshot: PartitionSnapshot | undefined, idWindowMs: number): PartitionOwner {
    if (!snapshot) return new PartitionOwner(new PartitionLedger(partition, idWindowMs), 0);
    return new PartitionOwner(PartitionLedger.restore(snapshot, idWindowMs), snapshot.offset);
  }

  snapshotDue(intervalMs: number): boolean {
    return !this.snapshotting && this.appliedSinceSnapshot > 0 && Date.now() - this.lastSnapshotAt >= intervalMs;
  }
}

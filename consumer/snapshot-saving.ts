// Saving a snapshot an owner took. Both callers (a batch once its insert is
// done, the upkeep for a quiet partition with everything inserted) save only
// when the ledger holds everything before the snapshot's offset, so a
// snapshot is never ahead of the ledger.
import type { Logger } from 'pino';
import type { PartitionOwner, TakenSnapshot } from './owner.js';
import type { SnapshotStore } from './snapshots.js';

/** Saves `taken` and tells its owner how it went; never rejects. */
export function saveSnapshot(store: Pick<SnapshotStore, 'save'>, owner: PartitionOwner, taken: TakenSnapshot, log: Logger): Promise<void> {
  const { snapshot, base } = taken;
  return store.save(snapshot, base).then(
    () => owner.snapshotDone(taken, true),
    (err) => {
      log.warn({ partition: snapshot.partition, err: (err as Error).message }, 'snapshot failed');
      // The next try waits a whole interval rather than hammering the database.
      owner.snapshotDone(taken, false);
    },
  );
}

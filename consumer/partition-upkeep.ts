// The periodic work beside the batches: writing a partition back into Redis
// after Redis missed or lost some of it, snapshotting partitions that went quiet, and, on a member that
// owns nothing, reading the snapshots it would need to take partitions over.
import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { oneAtATime } from '../common/one-at-a-time.js';
import type { PartitionOwners } from './partition-owners.js';
import { ReadModelRestorer, type RestorerReadModel } from './read-model-restorer.js';
import { saveSnapshot } from './snapshot-saving.js';
import type { SnapshotStore } from './snapshots.js';

export interface PartitionUpkeepDeps {
  owners: Pick<PartitionOwners, 'entries' | 'isCurrent'>;
  admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchTopicMetadata'>;
  readModel: RestorerReadModel;
  snapshots: Pick<SnapshotStore, 'save' | 'warm' | 'standingBy'>;
  log: Logger;
  /** True once the consumer is stopping: no new work starts. */
  stopping: () => boolean;
}

export interface PartitionUpkeepOptions {
  topic: string;
  consumerId: string;
  idWindowMs: number;
  snapshotIntervalMs: number;
}

export class PartitionUpkeep {
  private readonly restorer: ReadModelRestorer;
  private nextWarmAt = 0;

  constructor(
    private readonly deps: PartitionUpkeepDeps,
    private readonly options: PartitionUpkeepOptions,
  ) {
    this.restorer = new ReadModelRestorer(deps.readModel, deps.log, deps.stopping, options);
  }

  /**
   * One round of the upkeep, one round at a time: writing a partition back
   * into an empty Redis can take longer than the interval, and overlapping
   * rounds would each write the same partition again. Resolves to whether
   * this call ran a round.
   */
  readonly round = oneAtATime(async () => {
    await this.restoreReadModels();
    await this.snapshotQuietPartitions();
    await this.warmWhileStandingBy();
  });

  /**
   * Once a partition's state has caught up with its log, makes sure Redis
   * holds all of it: after a write Redis failed, or writes it lost, the whole
   * partition is written back.
   */
  private async restoreReadModels(): Promise<void> {
    const owners = this.deps.owners.entries();
    if (owners.length === 0 || this.deps.stopping()) return;
    try {
      const offsets = await this.deps.admin.fetchTopicOffsets(this.options.topic);
      const high = new Map(offsets.map((offset) => [offset.partition, Number(offset.high)]));
      for (const [partition, pending] of owners) {
        const owner = await pending;
        if (this.deps.stopping() || !this.deps.owners.isCurrent(partition, pending)) continue;
        // Checked even when believed whole: Redis may have lost writes while the partition was quiet.
        if (owner.caughtUp(high.get(partition) ?? 0)) await this.restorer.restore(partition, owner);
      }
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'read model check failed; will try again');
    }
  }

  /** A partition with no batch since its snapshot fell due is snapshotted here, once all of it is written. */
  private async snapshotQuietPartitions(): Promise<void> {
    for (const [, pending] of this.deps.owners.entries()) {
      const owner = await pending;
      if (!this.deps.stopping() && owner.snapshotDue(this.options.snapshotIntervalMs) && owner.allInserted) {
        void saveSnapshot(this.deps.snapshots, owner, owner.takeSnapshot(), this.deps.log);
      }
    }
  }

  /**
   * A member that owns nothing reads the partitions' new snapshots as they are
   * saved (a third of the snapshot interval apart), so that taking them over
   * reads only the last few.
   */
  private async warmWhileStandingBy(): Promise<void> {
    const { snapshots, stopping } = this.deps;
    if (!snapshots.standingBy || stopping() || Date.now() < this.nextWarmAt) return;
    this.nextWarmAt = Date.now() + this.options.snapshotIntervalMs / 3;
    try {
      const { topics } = await this.deps.admin.fetchTopicMetadata({ topics: [this.options.topic] });
      for (const { partitionId } of topics[0]?.partitions ?? []) {
        if (!snapshots.standingBy || stopping()) return;
        await snapshots.warm(partitionId);
      }
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'could not warm the snapshots; will try again');
    }
  }
}

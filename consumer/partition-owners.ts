// The partitions this member owns, each with its owner still loading or
// ready. An assignment replaces the whole map, so a batch or an upkeep round
// that began under an older assignment can tell it is out of date.
import type { Logger } from 'pino';
import { retry } from '../common/retry.js';
import { PartitionOwner } from './owner.js';
import { warnBeforeRetry } from './retry-log.js';
import type { SnapshotStore } from './snapshots.js';

export interface PartitionOwnersOptions {
  idWindowMs: number;
  snapshotIntervalMs: number;
}

export interface PartitionOwnersDeps {
  snapshots: Pick<SnapshotStore, 'load' | 'assigned'>;
  log: Logger;
  /** Called when a partition's state was loaded from its snapshots (metrics). */
  onLoaded?: (partition: number) => void;
}

export class PartitionOwners {
  private owners = new Map<number, Promise<PartitionOwner>>();

  constructor(
    private readonly deps: PartitionOwnersDeps,
    private readonly options: PartitionOwnersOptions,
  ) {}

  /** The partitions this member owns now. */
  get partitions(): number[] {
    return [...this.owners.keys()];
  }

  /** The owner of `partition` under the current assignment, still loading or ready. */
  get(partition: number): Promise<PartitionOwner> | undefined {
    return this.owners.get(partition);
  }

  /** Each owned partition with its pending owner, as assigned when called. */
  entries(): [number, Promise<PartitionOwner>][] {
    return [...this.owners];
  }

  /** Whether `pending` is still the owner of `partition`: no assignment replaced it since. */
  isCurrent(partition: number, pending: Promise<PartitionOwner>): boolean {
    return this.owners.get(partition) === pending;
  }

  /**
   * Runs synchronously inside kafkajs's join, before any batch of the new
   * generation. A partition this member already owned keeps its state (see
   * `PartitionOwner.resume`): a rebalance because a member joined or left
   * costs the owner no reload. Its pending owner is still replaced, so a batch
   * of the old generation that has not been decided yet is dropped.
   */
  assign(partitions: number[]): void {
    const previous = this.owners;
    const kept = partitions.filter((partition) => previous.has(partition));
    this.deps.log.info({ partitions, kept }, 'partitions assigned');
    this.deps.snapshots.assigned(partitions);
    this.owners = new Map(
      partitions.map((partition) => {
        const owned = previous.get(partition);
        return [partition, owned ? resume(owned) : this.load(partition)];
      }),
    );
  }

  private load(partition: number): Promise<PartitionOwner> {
    return retry(() => this.loadOnce(partition), {
      what: 'snapshot load',
      firstDelayMs: 200,
      maxDelayMs: 5000,
      onFailure: warnBeforeRetry(this.deps.log, 'could not load the snapshot; retrying', { partition }),
    });
  }

  private async loadOnce(partition: number): Promise<PartitionOwner> {
    const { idWindowMs, snapshotIntervalMs } = this.options;
    const owner = PartitionOwner.fromSnapshot(partition, await this.deps.snapshots.load(partition), idWindowMs);
    this.deps.onLoaded?.(partition);
    owner.staggerSnapshots(snapshotIntervalMs);
    this.deps.log.info({ partition, offset: owner.nextOffset, accounts: owner.ledger.size }, 'partition state loaded');
    return owner;
  }
}

async function resume(pending: Promise<PartitionOwner>): Promise<PartitionOwner> {
  const owner = await pending;
  owner.resume();
  return owner;
}

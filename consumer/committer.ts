// Commits Kafka offsets once the ledger documents before them are inserted.
// Marks coalesce per partition and one commit request is in flight at a time,
// so a partition's committed offset only moves forward.
import type { Logger } from 'pino';

export interface PartitionOffset {
  partition: number;
  offset: number;
}

export class OffsetCommitter {
  private pending = new Map<number, number>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly commit: (offsets: PartitionOffset[]) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** `offset` is the next offset to read: every record before it is in the ledger. */
  mark(partition: number, offset: number): void {
    if ((this.pending.get(partition) ?? -1) < offset) this.pending.set(partition, offset);
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
  }

  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    while (this.pending.size > 0) {
      const offsets = [...this.pending].map(([partition, offset]) => ({ partition, offset }));
      this.pending.clear();
      try {
        await this.commit(offsets);
      } catch (err) {
        // A rebalance took the partitions, or the coordinator moved: the next owner replays
        // from the last commit that went through, and its inserts of what is here are duplicates.
        this.log.warn({ err: (err as Error).message, offsets }, 'offset commit failed');
      }
    }
  }
}

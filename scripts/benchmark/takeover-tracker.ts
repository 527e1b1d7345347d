// When every partition is served again after a consumer was killed. A probe
// is a deposit to an account the partition owns; the partition counts as
// served from the first decided answer (200) of its last unbroken run of
// decided answers, so a partition that answered, then stalled in the
// rebalance that followed, counts from when it came back. Probes overlap (a
// new one every few hundred ms, each waiting up to the decision deadline), so
// a late non-decided answer to a probe sent before the current run began does
// not break it.
import { partitionOf } from '../../common/message.js';

/** An account that `partitionOf` maps to `partition`: `<prefix>-<partition>-<k>` for the smallest such k. */
export function accountForPartition(partition: number, partitions: number, prefix: string): string {
  for (let k = 0; k < 1_000_000; k++) {
    const account = `${prefix}-${partition}-${k}`;
    if (partitionOf(account, partitions) === partition) return account;
  }
  throw new Error(`no account found for partition ${partition} of ${partitions}`);
}

export class TakeoverTracker {
  /** When the current run of decided answers began, per partition (undefined: not served). */
  private readonly servedSince = new Map<number, number | undefined>();
  private readonly streak = new Map<number, number>();
  /** When the first probe of the current run was sent: older probes answered late do not break the run. */
  private readonly streakSentAt = new Map<number, number>();

  /** `killedAt`: the moment of the kill (ms); `streakNeeded`: decided answers in a row that make a partition served. */
  constructor(
    readonly partitions: number,
    readonly killedAt: number,
    readonly streakNeeded = 3,
  ) {
    for (let p = 0; p < partitions; p++) this.streak.set(p, 0);
  }

  /** A probe of `partition` sent at `sentAt` was answered at `answeredAt` with `status` (0: no answer). */
  answer(partition: number, sentAt: number, answeredAt: number, status: number): void {
    if (sentAt < this.killedAt) return;
    if (status === 200) {
      if ((this.streak.get(partition) ?? 0) === 0) {
        this.servedSince.set(partition, answeredAt);
        this.streakSentAt.set(partition, sentAt);
      }
      this.streak.set(partition, (this.streak.get(partition) ?? 0) + 1);
    } else if ((this.streak.get(partition) ?? 0) > 0 && sentAt < (this.streakSentAt.get(partition) ?? 0)) {
      // sent before the partition came back, answered by its deadline: says nothing about now
    } else {
      this.streak.set(partition, 0);
      this.servedSince.set(partition, undefined);
    }
  }

  served(partition: number): boolean {
    return (this.streak.get(partition) ?? 0) >= this.streakNeeded;
  }

  get allServed(): boolean {
    for (let p = 0; p < this.partitions; p++) if (!this.served(p)) return false;
    return true;
  }

  /** Partitions not yet served. */
  waiting(): number[] {
    return [...this.streak.keys()].filter((p) => !this.served(p));
  }

  /** Seconds from the kill until each partition was served again (null: not yet). */
  perPartition(): (number | null)[] {
    return Array.from({ length: this.partitions }, (_, p) => {
      const since = this.servedSince.get(p);
      return this.served(p) && since !== undefined ? Math.round((since - this.killedAt) / 10) / 100 : null;
    });
  }

  /** Seconds from the kill until the last partition was served again; null until all are. */
  seconds(): number | null {
    if (!this.allServed) return null;
    return Math.max(...(this.perPartition() as number[]));
  }
}

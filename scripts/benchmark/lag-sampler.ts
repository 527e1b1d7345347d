// Consumer lag of a group on a topic: the high watermarks minus the group's
// committed offsets, summed over partitions, sampled once a second with the
// kafkajs admin client while a phase runs.
import type { Admin } from 'kafkajs';
import { waitFor, withTimeout } from '../shared/wait.js';

/** Lag per partition: high watermark minus committed offset (nothing committed counts from the low watermark). */
export function lagOf(
  high: { partition: number; high: string; low: string }[],
  committed: { partition: number; offset: string }[],
): { total: number; byPartition: Map<number, number> } {
  const done = new Map(committed.map((c) => [c.partition, Number(c.offset)]));
  const byPartition = new Map<number, number>();
  let total = 0;
  for (const h of high) {
    const c = done.get(h.partition);
    const from = c === undefined || c < 0 ? Number(h.low) : c;
    const lag = Math.max(0, Number(h.high) - from);
    byPartition.set(h.partition, lag);
    total += lag;
  }
  return { total, byPartition };
}

export async function fetchLag(admin: Admin, groupId: string, topic: string) {
  const [high, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  return lagOf(high, committed[0]?.partitions ?? []);
}

/** Waits until the group has committed everything on the topic; false if it has not within `timeoutMs`. */
export async function waitCaughtUp(admin: Admin, groupId: string, topic: string, timeoutMs: number): Promise<boolean> {
  try {
    await waitFor(async () => (await withTimeout(fetchLag(admin, groupId, topic), 3000, 'lag')).total === 0, { timeoutMs, intervalMs: 500, what: 'consumers caught up' });
    return true;
  } catch {
    return false;
  }
}

export class LagSampler {
  peak = 0;
  samples: { t: number; lag: number }[] = [];
  /** Samples that failed or took over 3 s (a broker busy with a rebalance): missing, not zero. */
  failed = 0;
  lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly intervalMs = 1000,
  ) {}

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { total } = await withTimeout(fetchLag(this.admin, this.groupId, this.topic), 3000, 'lag sample');
      this.samples.push({ t: Date.now(), lag: total });
      this.peak = Math.max(this.peak, total);
    } catch (err) {
      // a missed sample is not a reason to stop the phase; it is counted
      this.failed++;
      this.lastError = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  async stop(): Promise<number> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 50));
    await this.sample();
    return this.peak;
  }

  /** What the results say about the sampling. */
  report(): { lag_samples: number; lag_samples_failed: number; lag_last_error?: string } {
    return { lag_samples: this.samples.length, lag_samples_failed: this.failed, ...(this.lastError ? { lag_last_error: this.lastError } : {}) };
  }
}

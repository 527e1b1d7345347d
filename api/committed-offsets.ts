// The ledger consumer group's committed offsets, read with a Kafka admin
// client: what a cut is made of (api/cuts.ts). An owner commits a partition's
// offset only once the ledger holds every document of the records before it
// (consumer/partition-batch.ts `writeThenCommit`: the commit waits for the
// writer's insert; the consumer runs with kafkajs's autoCommit off, so
// nothing else commits), so below a committed offset the ledger is complete.
import type { Admin } from 'kafkajs';
import { createError, TELLER_ERR_OFFSETS_UNAVAILABLE } from '../common/errors.js';

/** How long a cut may wait for Kafka's answer: well below NGINX's 15 s, since kafkajs retries for longer. */
export const OFFSETS_TIMEOUT_MS = 5_000;

export type OffsetsAdmin = Pick<Admin, 'connect' | 'disconnect' | 'fetchOffsets'>;

export class CommittedOffsets {
  private connected: Promise<void> | undefined;

  constructor(
    private readonly admin: OffsetsAdmin,
    private readonly source: { topic: string; groupId: string },
    private readonly timeoutMs = OFFSETS_TIMEOUT_MS,
  ) {}

  /**
   * Every partition of the topic with the group's committed offset: the first
   * offset whose documents may not be in the ledger yet. A partition the group
   * never committed reads 0 (Kafka answers -1): nothing of it is known to be in.
   * TELLER_ERR_OFFSETS_UNAVAILABLE when Kafka does not answer in time.
   */
  async fetch(): Promise<Map<number, number>> {
    const read = this.read();
    // Answered or not, the read ends on its own: a late failure is not an unhandled one.
    read.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer in time')), this.timeoutMs);
    });
    try {
      return await Promise.race([read, late]);
    } catch {
      throw createError(TELLER_ERR_OFFSETS_UNAVAILABLE);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Disconnects the admin client, if a cut ever connected it. */
  async close(): Promise<void> {
    if (this.connected === undefined) return;
    this.connected = undefined;
    await this.admin.disconnect();
  }

  private async read(): Promise<Map<number, number>> {
    // Connected once, on the first cut; a failed connect is tried again on the next.
    this.connected ??= this.admin.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    await this.connected;
    const [topic] = await this.admin.fetchOffsets({ groupId: this.source.groupId, topics: [this.source.topic] });
    if (!topic || topic.partitions.length === 0) throw new Error(`no partitions of ${this.source.topic}`);
    const offsets = new Map<number, number>();
    for (const { partition, offset } of topic.partitions) {
      const committed = Number(offset);
      if (!Number.isSafeInteger(committed)) throw new Error(`partition ${partition}: offset ${offset}`);
      offsets.set(partition, Math.max(0, committed));
    }
    return offsets;
  }
}

// Reading stretches of the transaction topic, for a replay that is not a
// partition owner's: an explanation of a decision (docs/explanations.md) or a
// shadow audit. kafkajs reads only as a member of a consumer group, so each
// read joins a group of its own (a fresh id, which no other member shares, so
// it is assigned every partition), is sent to the first offset it wants in
// each partition it reads, takes the records in order up to the last one it
// wants, then leaves and deletes the group. It commits nothing.
//
// kafkajs's `seek` may be called only once `run` has joined the group (it
// throws before); it takes effect at the partition's next fetch, and a fetch
// answered while a seek of its partition is pending is dropped, not
// delivered (kafkajs's consumerGroup.js `fetch`). The seeks are made as soon
// as `run` resolves, before any fetch can have answered, so every batch
// delivered for a range starts at the range's first offset; until then the
// consumer reads at the log's end (no committed offset, not from the
// beginning). A record past the one expected therefore means the log lost
// those between (retention), and records delivered twice are passed over.
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { RawRecord } from './batch-decision.js';

/** What a partition of the log holds: offsets `first` (the oldest still kept) up to `end` (the next to be written). */
export interface LogBounds {
  first: number;
  end: number;
}

/** Offsets `from` up to `to` (not included) of one partition. */
export interface OffsetRange {
  partition: number;
  from: number;
  to: number;
}

/** Takes a range's records, in offset order, some at a time. */
export type TakeRecords = (partition: number, records: RawRecord[]) => Promise<void>;

/** The log no longer holds a record a range needs (retention deleted it). */
export class LogGap extends Error {
  constructor(
    readonly partition: number,
    readonly missing: number,
  ) {
    super(`partition ${partition} no longer holds offset ${missing}`);
    this.name = 'LogGap';
  }
}

/** The read did not end by its deadline. */
export class LogReadTimeout extends Error {
  constructor() {
    super('the log was not read by the deadline');
    this.name = 'LogReadTimeout';
  }
}

/** A fetch at most, so a read of a few records does not wait long for more. */
const MAX_WAIT_MS = 100;
const MAX_BYTES_PER_PARTITION = 4 * 1024 * 1024;

/**
 * What one read still wants of each partition, and the records it hands on:
 * each offset once, in order, none missing. Resolves `done` once every range
 * is read, rejects it at the first failure.
 */
export class RangeReading {
  readonly done: Promise<void>;
  private readonly next = new Map<number, { next: number; to: number }>();
  private resolve!: () => void;
  private reject!: (err: Error) => void;
  private failed = false;

  constructor(
    ranges: readonly OffsetRange[],
    private readonly take: TakeRecords,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    for (const { partition, from, to } of ranges) if (from < to) this.next.set(partition, { next: from, to });
    if (this.next.size === 0) this.resolve();
  }

  /** A batch of `partition` as the consumer fetched it. Never throws: a failure rejects `done`. */
  async batch(partition: number, messages: readonly RawRecord[]): Promise<void> {
    const range = this.next.get(partition);
    if (!range || this.failed) return;
    const records: RawRecord[] = [];
    for (const record of messages) {
      const offset = Number(record.offset);
      const expected = range.next + records.length;
      if (offset < expected) continue;
      // A record past the one expected (even past the range) means those between are gone.
      if (offset > expected && expected < range.to) return this.fail(new LogGap(partition, expected));
      if (offset >= range.to) break;
      records.push(record);
    }
    if (records.length === 0) return;
    try {
      await this.take(partition, records);
    } catch (err) {
      return this.fail(err as Error);
    }
    range.next += records.length;
    if (range.next < range.to) return;
    this.next.delete(partition);
    if (this.next.size === 0) this.resolve();
  }

  fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(err);
  }
}

export class LogRangeReader {
  private admin: Promise<Admin> | undefined;

  constructor(
    private readonly kafka: Pick<Kafka, 'consumer' | 'admin'>,
    private readonly topic: string,
    /** The throwaway groups' ids start with it, so an operator can tell them. */
    private readonly groupPrefix: string,
  ) {}

  /** Each partition's first and end offsets; LogReadTimeout past `deadline` (ms since the epoch). */
  async bounds(deadline = Number.POSITIVE_INFINITY): Promise<Map<number, LogBounds>> {
    const offsets = await beforeDeadline(
      this.connectedAdmin().then((admin) => admin.fetchTopicOffsets(this.topic)),
      deadline,
    );
    return new Map(offsets.map((o) => [o.partition, { first: Number(o.low), end: Number(o.high) }]));
  }

  /**
   * Reads `ranges`, handing their records to `take` in offset order, a
   * fetched batch at a time (the next batch of a partition waits for it).
   * Rejects with LogGap when a record is gone, LogReadTimeout past `deadline`
   * (ms since the epoch), or what `take` threw.
   */
  async read(ranges: readonly OffsetRange[], take: TakeRecords, deadline = Number.POSITIVE_INFINITY): Promise<void> {
    const reading = new RangeReading(ranges, take);
    const wanted = ranges.filter((r) => r.from < r.to);
    if (wanted.length === 0) return;
    const groupId = `${this.groupPrefix}-${randomUUID()}`;
    const consumer = this.kafka.consumer({
      groupId,
      maxWaitTimeInMs: MAX_WAIT_MS,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      allowAutoTopicCreation: false,
      // A crash ends the read (the caller may try again); a restarted consumer would start over unpositioned.
      retry: { retries: 2, restartOnFailure: async () => false },
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => reading.fail(payload.error));
    let read = false;
    try {
      await beforeDeadline(this.start(consumer, wanted, reading), deadline);
      await beforeDeadline(reading.done, deadline);
      read = true;
    } finally {
      // After a failure the consumer may still be inside a batch, which its disconnect waits for: the caller need not.
      const discarded = this.discard(consumer, groupId);
      if (read) await discarded;
    }
  }

  /** Stops using the admin client (bounds, group deletions). */
  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin) await (await admin.catch(() => undefined))?.disconnect();
  }

  private async start(consumer: Consumer, ranges: readonly OffsetRange[], reading: RangeReading): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await consumer.run({ autoCommit: false, eachBatch: ({ batch }) => reading.batch(batch.partition, batch.messages) });
    // Right after `run`, before any fetch has answered: every batch from here on is from the range's start.
    for (const { partition, from } of ranges) consumer.seek({ topic: this.topic, partition, offset: String(from) });
  }

  /**
   * Leaves the group and deletes it. A group whose deletion fails holds no
   * offsets and no member, and the broker drops such a group on its own.
   */
  private async discard(consumer: Consumer, groupId: string): Promise<void> {
    await consumer.disconnect().catch(() => undefined);
    await this.connectedAdmin()
      .then((admin) => admin.deleteGroups([groupId]))
      .catch(() => undefined);
  }

  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(() => admin);
      // A failed connection is tried again by the next call.
      this.admin.catch(() => (this.admin = undefined));
    }
    return this.admin;
  }
}

/** `work`, or LogReadTimeout once `deadline` passes first. */
function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  if (deadline === Number.POSITIVE_INFINITY) return work;
  // Settled late, its outcome is no one's.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LogReadTimeout()), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

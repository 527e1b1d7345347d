// The Kafka wiring of the ledger: a consumer group member that owns some
// partitions. Per batch, in offset order: decide every message in memory,
// write the read model and announce the outcomes, insert the ledger documents
// (grouped with other partitions' batches), and only then commit lastOffset+1.
//
// On every assignment the state of each owned partition is rebuilt from its
// newest snapshot, and the consumer is sent back to the snapshot's offset, so
// a partition's state always equals a replay of its log: a new owner, a
// restarted one and one that woke from a stall all converge on the same ledger.
import type { Admin, Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import { oneAtATime } from '../common/one-at-a-time.js';
import { decideBatch, type BatchDecision } from './batch-decision.js';
import type { DeadLetterPublisher } from './dead-letter.js';
import type { LedgerWriter } from './ledger-writer.js';
import { OffsetCommitter } from './committer.js';
import { PartitionOwner, type TakenSnapshot } from './owner.js';
import type { ReadModelWriter } from './read-model-writer.js';
import type { SnapshotStore } from './snapshots.js';
import type { Ticker } from './ticker.js';

export interface LedgerConsumerOptions {
  topic: string;
  consumerId: string;
  idWindowMs: number;
  snapshotIntervalMs: number;
  /** Partitions decided concurrently; all of them should share an insert group. */
  concurrency: number;
}

export interface LedgerConsumerDeps {
  consumer: Consumer;
  admin: Admin;
  writer: LedgerWriter;
  readModel: ReadModelWriter;
  snapshots: SnapshotStore;
  deadLetters: DeadLetterPublisher;
  log: Logger;
  /** Publishes the ticks that move quiet partitions' clocks (holds lapse by them). */
  ticker?: Ticker;
}

/** A partition's figures after a decided batch (metrics). */
export interface PartitionFigures {
  /** Messages behind the partition's high watermark. */
  lag: number;
  /** Ids the partition remembers for the id window. */
  remembered: number;
}

export interface ConsumerStats {
  applied: number;
  deadLettered: number;
  lag: Map<number, number>;
}

/** Ledger documents the consumer may decide ahead of the database before it waits. */
const MAX_BACKLOG = 50_000;

export class LedgerConsumer {
  private readonly committer: OffsetCommitter;
  private inFlight = 0;
  private owners = new Map<number, Promise<PartitionOwner>>();
  private readModelTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private nextWarmAt = 0;
  readonly stats: ConsumerStats = { applied: 0, deadLettered: 0, lag: new Map() };
  /** Called when a partition's state was loaded from its snapshots (metrics). */
  onLoaded: ((partition: number) => void) | undefined;
  /** Called after each partition batch is decided (metrics). */
  onDecided: ((partition: number, decision: BatchDecision, after: PartitionFigures) => void) | undefined;

  constructor(
    private readonly d: LedgerConsumerDeps,
    private readonly o: LedgerConsumerOptions,
  ) {
    const topic = o.topic;
    this.committer = new OffsetCommitter(
      (offsets) => d.consumer.commitOffsets(offsets.map((x) => ({ topic, partition: x.partition, offset: String(x.offset) }))),
      d.log,
    );
  }

  async start(): Promise<void> {
    const { consumer } = this.d;
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.onAssignment(e.payload.memberAssignment[this.o.topic] ?? []));
    await consumer.connect();
    await this.d.admin.connect();
    await consumer.subscribe({ topic: this.o.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // Offsets are resolved by hand once a batch is written and committed; see onBatch.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.o.concurrency,
      eachBatch: async (payload) => {
        this.inFlight++;
        try {
          await this.onBatch(payload);
        } finally {
          this.inFlight--;
        }
      },
    });
    this.d.ticker?.start(() => this.partitions);
    this.readModelTimer = setInterval(() => void this.upkeep(), 1000);
  }

  /** Finishes what was decided (insert, commit) while still a member, then leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.readModelTimer);
    await this.d.ticker?.stop();
    this.d.consumer.pause([{ topic: this.o.topic }]);
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 20));
    await this.d.writer.close();
    await this.committer.flush();
    await this.d.consumer.disconnect();
    await this.d.admin.disconnect();
  }

  /** The partitions this member owns now. */
  get partitions(): number[] {
    return [...this.owners.keys()];
  }

  /**
   * Runs synchronously inside kafkajs's join, before any batch of the new
   * generation. A partition this member already owned keeps its state (see
   * `PartitionOwner.resume`): a rebalance because a member joined or left
   * costs the owner no reload. Its pending owner is still replaced, so a batch
   * of the old generation that has not been decided yet is dropped.
   */
  private onAssignment(partitions: number[]): void {
    const previous = this.owners;
    const kept = partitions.filter((p) => previous.has(p));
    this.d.log.info({ partitions, kept }, 'partitions assigned');
    this.d.snapshots.assigned(partitions);
    this.owners = new Map(partitions.map((p) => [p, previous.has(p) ? this.resume(previous.get(p)!) : this.load(p)]));
  }

  private async resume(pending: Promise<PartitionOwner>): Promise<PartitionOwner> {
    const owner = await pending;
    owner.resume();
    return owner;
  }

  private async load(partition: number): Promise<PartitionOwner> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        const snapshot = await this.d.snapshots.load(partition);
        const owner = PartitionOwner.fromSnapshot(partition, snapshot, this.o.idWindowMs);
        this.onLoaded?.(partition);
        owner.staggerSnapshots(this.o.snapshotIntervalMs);
        this.d.log.info({ partition, offset: owner.nextOffset, accounts: owner.ledger.size }, 'partition state loaded');
        return owner;
      } catch (err) {
        this.d.log.warn({ partition, err: (err as Error).message, retryInMs: delay }, 'could not load the snapshot; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isStale, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    const { partition } = batch;
    const pending = this.owners.get(partition);
    if (!pending || batch.isEmpty()) return;
    const owner = await pending;
    if (isStale() || this.owners.get(partition) !== pending || this.stopping) return;

    const first = Number(batch.firstOffset());
    if (!owner.positioned) {
      // kafkajs starts at the committed offset; the state stands at its snapshot's.
      owner.positioned = true;
      owner.writtenBefore = first;
      if (first !== owner.nextOffset) {
        this.d.consumer.seek({ topic: this.o.topic, partition, offset: String(owner.nextOffset) });
        return;
      }
    } else if (first < owner.nextOffset) {
      // Already decided by this owner (a batch fetched again), or the log is shorter than the state
      // (Kafka's data wiped without the database's): never decide a record twice.
      this.d.log.warn({ partition, expected: owner.nextOffset, first }, 'records before the state fetched again; skipping to the state');
      this.d.consumer.seek({ topic: this.o.topic, partition, offset: String(owner.nextOffset) });
      return;
    } else if (first > owner.nextOffset) {
      // Records before `first` are gone from the log (retention): nothing left to replay.
      this.d.log.error({ partition, expected: owner.nextOffset, first }, 'gap in the log; continuing from the first record present');
    }

    const decision = decideBatch(owner.ledger, batch.messages, owner.writtenBefore);
    const last = Number(batch.lastOffset());
    owner.nextOffset = last + 1;
    owner.appliedSinceSnapshot += decision.applied;
    if (last < owner.writtenBefore) {
      owner.insertedBefore = last + 1;
      resolveOffset(batch.lastOffset());
      return;
    }

    await this.retry('dead-letter', () => this.d.deadLetters.publish(this.o.topic, partition, decision.deadLetters));
    try {
      const whole = await this.d.readModel.apply(partition, decision.accounts, decision.stored, decision.announced);
      if (!whole) owner.readModelWhole = false;
    } catch (err) {
      // Redis is down: callers get 202 instead of the decision; the read model is written back later.
      owner.readModelWhole = false;
      this.d.log.warn({ partition, err: (err as Error).message }, 'read model not written');
    }
    // The insert and the commit after it go on while kafkajs fetches the next batch: the
    // answers are out already, and the writer inserts groups in order, so commits stay in order.
    const snapshot = owner.snapshotDue(this.o.snapshotIntervalMs) ? owner.takeSnapshot() : undefined;
    const written = this.d.writer.write(decision.docs).then(() => {
      owner.insertedBefore = last + 1;
      this.committer.mark(partition, last + 1);
      if (snapshot) this.saveSnapshot(owner, snapshot);
    });
    written.catch((err) => {
      if (snapshot) owner.snapshotDone(snapshot, false);
      this.d.log.warn({ partition, err: (err as Error).message }, 'ledger insert abandoned');
    });
    resolveOffset(batch.lastOffset());
    this.stats.applied += decision.applied;
    this.stats.deadLettered += decision.deadLetters.length;
    const lag = Math.max(0, Number(batch.highWatermark) - last - 1);
    this.stats.lag.set(partition, lag);
    this.onDecided?.(partition, decision, { lag, remembered: owner.ledger.remembered });
    if (this.d.writer.backlog > MAX_BACKLOG) await this.whileBeating(written, heartbeat);
  }

  private async whileBeating(p: Promise<void>, heartbeat: () => Promise<void>): Promise<void> {
    const beat = setInterval(() => void heartbeat().catch(() => undefined), 2000);
    try {
      await p.catch(() => undefined);
    } finally {
      clearInterval(beat);
    }
  }

  /**
   * The periodic work beside the batches, one round at a time: writing a
   * partition back into an empty Redis can take longer than the interval, and
   * overlapping rounds would each write the same partition again.
   */
  private readonly upkeep = oneAtATime(async () => {
    await this.restoreReadModels();
    await this.snapshotQuietPartitions();
    await this.warmWhileStandingBy();
  });

  /**
   * A member that owns nothing reads the partitions' new snapshots as they are
   * saved (a third of the snapshot interval apart), so that taking them over
   * reads only the last few.
   */
  private async warmWhileStandingBy(): Promise<void> {
    const { snapshots } = this.d;
    if (!snapshots.standingBy || this.stopping || Date.now() < this.nextWarmAt) return;
    this.nextWarmAt = Date.now() + this.o.snapshotIntervalMs / 3;
    try {
      const { topics } = await this.d.admin.fetchTopicMetadata({ topics: [this.o.topic] });
      for (const { partitionId: p } of topics[0]?.partitions ?? []) {
        if (!snapshots.standingBy || this.stopping) return;
        await snapshots.warm(p);
      }
    } catch (err) {
      this.d.log.debug({ err: (err as Error).message }, 'could not warm the snapshots; will try again');
    }
  }

  /** A partition with no batch since its snapshot fell due is snapshotted here, once all of it is written. */
  private async snapshotQuietPartitions(): Promise<void> {
    for (const [, pending] of this.owners) {
      const owner = await pending;
      if (!this.stopping && owner.snapshotDue(this.o.snapshotIntervalMs) && owner.insertedBefore === owner.nextOffset) {
        this.saveSnapshot(owner, owner.takeSnapshot());
      }
    }
  }

  /** Saved once the ledger holds everything before its offset, so it is never ahead of the ledger. */
  private saveSnapshot(owner: PartitionOwner, taken: TakenSnapshot): void {
    const { snapshot, base } = taken;
    this.d.snapshots.save(snapshot, base).then(
      () => owner.snapshotDone(taken, true),
      (err) => {
        this.d.log.warn({ partition: snapshot.partition, err: (err as Error).message }, 'snapshot failed');
        // The next try waits a whole interval rather than hammering the database.
        owner.snapshotDone(taken, false);
      },
    );
  }

  /**
   * Once a partition's state has caught up with its log, makes sure Redis
   * holds all of it: after Redis restarted empty, every account is written
   * back before reads of the partition are answered again.
   */
  private async restoreReadModels(): Promise<void> {
    const owners = [...this.owners];
    if (owners.length === 0 || this.stopping) return;
    try {
      const offsets = await this.d.admin.fetchTopicOffsets(this.o.topic);
      const high = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
      for (const [partition, pending] of owners) {
        const owner = await pending;
        if (this.stopping || this.owners.get(partition) !== pending) continue;
        // Caught up: nothing left in the log, or past everything acknowledged before this owner took over.
        const caughtUp = owner.nextOffset >= (high.get(partition) ?? 0) || (owner.positioned && owner.nextOffset >= owner.writtenBefore);
        // Checked even when believed whole: Redis may have restarted empty while the partition was quiet.
        if (!caughtUp) continue;
        await this.writeWholeReadModel(partition, owner);
      }
    } catch (err) {
      this.d.log.debug({ err: (err as Error).message }, 'read model check failed; will try again');
    }
  }

  private async writeWholeReadModel(partition: number, owner: PartitionOwner): Promise<void> {
    if (await this.d.readModel.isReady(partition)) {
      owner.readModelWhole = true;
      return;
    }
    const offset = owner.nextOffset - 1;
    let accounts = [];
    for (const accountId of owner.ledger.accountIds()) {
      accounts.push({ accountId, offset, account: owner.ledger.account(accountId)! });
      if (accounts.length === 1000) {
        if (this.stopping) return;
        await this.d.readModel.apply(partition, accounts, [], []);
        accounts = [];
      }
    }
    await this.d.readModel.apply(partition, accounts, [], []);
    let outcomes = [];
    for (const outcome of owner.ledger.outcomes()) {
      outcomes.push(outcome);
      if (outcomes.length === 5000) {
        if (this.stopping) return;
        await this.d.readModel.restoreOutcomes(outcomes, this.o.idWindowMs / 1000);
        outcomes = [];
      }
    }
    await this.d.readModel.restoreOutcomes(outcomes, this.o.idWindowMs / 1000);
    await this.d.readModel.markReady(partition, this.o.consumerId);
    owner.readModelWhole = true;
    this.d.log.info({ partition, accounts: owner.ledger.size }, 'read model of the partition written whole');
  }

  private async retry(what: string, fn: () => Promise<void>): Promise<void> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await fn();
      } catch (err) {
        if (this.stopping) throw err;
        this.d.log.warn({ what, err: (err as Error).message, retryInMs: delay }, 'write failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

// One partition batch from kafkajs, in offset order: position it against the
// owner's state, look up in the ledger the ids it may repeat that memory no
// longer holds, decide every message in memory, publish the dead letters and
// the messages it mints (transfer credits and returns, the cancels of requests
// approved after their callers were answered), write
// the read model and announce the outcomes, insert the ledger documents
// (grouped with other partitions' batches) while publishing their events, and
// only once both are done commit lastOffset+1.
import type { EachBatchPayload } from 'kafkajs';
import { retry } from '../common/retry.js';
import { decideBatch, lookupsOf, parseRecords, type BatchDecision, type ParsedRecord, type RawRecord } from './batch-decision.js';
import { lookUp, type DurableDecisions, type LedgerFinder } from './id-lookup.js';
import type { OffsetCommitter } from './committer.js';
import { BatchPublishing, type BatchPublishingDeps, type BatchPublishingOptions } from './batch-publishing.js';
import type { LedgerWriter } from './ledger-writer.js';
import type { PartitionOwner } from './owner.js';
import type { PartitionOwners } from './partition-owners.js';
import type { ReadModelWriter } from './read-model-writer.js';
import { warnBeforeRetry } from './retry-log.js';
import { saveSnapshot } from './snapshot-saving.js';
import type { SnapshotStore } from './snapshots.js';

/** A partition's figures after a decided batch (metrics). */
export interface PartitionFigures {
  /** Messages behind the partition's high watermark. */
  lag: number;
  /** Ids the partition remembers for the id window. */
  remembered: number;
  /** Bytes of the bits of its filter of those ids. */
  filterBytes: number;
}

export interface ConsumerStats {
  applied: number;
  deadLettered: number;
  lag: Map<number, number>;
}

/** The parts of kafkajs's `EachBatchPayload` a batch uses. */
export interface BatchPayload {
  batch: {
    partition: number;
    highWatermark: string;
    messages: RawRecord[];
    isEmpty(): boolean;
    firstOffset(): string | null;
    lastOffset(): string;
  };
  resolveOffset: EachBatchPayload['resolveOffset'];
  heartbeat: EachBatchPayload['heartbeat'];
  isStale: EachBatchPayload['isStale'];
}

export interface BatchHandlerDeps extends BatchPublishingDeps {
  owners: Pick<PartitionOwners, 'get' | 'isCurrent'>;
  /** Sends the consumer to `offset` of `partition` (kafkajs's `consumer.seek`). */
  seek: (partition: number, offset: number) => void;
  writer: Pick<LedgerWriter, 'write' | 'backlog'>;
  /** The ledger collection, where the ids a batch may repeat are looked up. */
  ledger: LedgerFinder;
  readModel: Pick<ReadModelWriter, 'apply'>;
  snapshots: Pick<SnapshotStore, 'save'>;
  committer: Pick<OffsetCommitter, 'mark'>;
  /** True once the consumer is stopping: batches that arrive are dropped, retries end. */
  stopping: () => boolean;
  /** Called after each partition batch is decided (metrics). */
  onDecided?: (partition: number, decision: BatchDecision, after: PartitionFigures) => void;
}

export interface BatchHandlerOptions extends BatchPublishingOptions {
  snapshotIntervalMs: number;
}

/** Ledger documents the consumer may decide ahead of the database before it waits. */
export const MAX_BACKLOG = 50_000;

export class BatchHandler {
  readonly stats: ConsumerStats = { applied: 0, deadLettered: 0, lag: new Map() };
  private readonly publishing: BatchPublishing;

  constructor(
    private readonly deps: BatchHandlerDeps,
    private readonly options: BatchHandlerOptions,
  ) {
    this.publishing = new BatchPublishing(deps, options);
  }

  async handle(payload: BatchPayload): Promise<void> {
    const { batch } = payload;
    const owner = await this.currentOwner(payload);
    if (!owner || !this.placed(owner, batch.partition, Number(batch.firstOffset()))) return;

    const records = parseRecords(batch.messages);
    const durable = await this.lookUpRepeats(owner, payload, records);
    const decision = decideBatch(owner.ledger, records, owner.writtenBefore, durable);
    const last = Number(batch.lastOffset());
    if (owner.decided(last, decision.applied) === 'already written') {
      payload.resolveOffset(batch.lastOffset());
      return;
    }
    await this.publishing.deadLetters(batch.partition, decision);
    await this.publishing.minted(batch.partition, decision);
    await this.writeReadModel(owner, batch.partition, decision, last);
    const { written } = await this.writeThenCommit(owner, payload, decision, last);
    payload.resolveOffset(batch.lastOffset());
    this.count(owner, batch.partition, decision, Math.max(0, Number(batch.highWatermark) - last - 1));
    if (this.deps.writer.backlog > MAX_BACKLOG) await whileBeating(written.catch(() => undefined), payload.heartbeat);
  }

  /** The owner to decide the batch with; undefined when the batch is empty, stale or of an older assignment. */
  private async currentOwner({ batch, isStale }: BatchPayload): Promise<PartitionOwner | undefined> {
    const pending = this.deps.owners.get(batch.partition);
    if (!pending || batch.isEmpty()) return undefined;
    const owner = await pending;
    if (isStale() || !this.deps.owners.isCurrent(batch.partition, pending) || this.deps.stopping()) return undefined;
    return owner;
  }

  /** Whether the batch is to be decided; when it is not, the consumer is sent to the state's offset. */
  private placed(owner: PartitionOwner, partition: number, first: number): boolean {
    const placement = owner.place(first);
    switch (placement.action) {
      case 'apply':
        return true;
      case 'gap':
        this.deps.log.error({ partition, expected: placement.expected, first }, 'gap in the log; continuing from the first record present');
        return true;
      case 'skip':
        this.deps.log.warn({ partition, expected: placement.offset, first }, 'records before the state fetched again; skipping to the state');
        this.deps.seek(partition, placement.offset);
        return false;
      case 'seek':
        this.deps.seek(partition, placement.offset);
        return false;
    }
  }

  /**
   * Lets go of the decisions the ledger now holds, then reads from it those
   * the batch may need: before the batch, so that nothing leaves memory
   * between the lookup and the decisions that use it.
   */
  private async lookUpRepeats(owner: PartitionOwner, { batch, heartbeat }: BatchPayload, records: ParsedRecord[]): Promise<DurableDecisions> {
    const { partition } = batch;
    owner.ledger.durableBefore(owner.insertedBefore);
    const keys = lookupsOf(owner.ledger, records);
    // While the database does not answer, the member stays in the group, as it does waiting for inserts.
    const beat = keys.size === 0 ? undefined : setInterval(() => void heartbeat().catch(() => undefined), 2000);
    try {
      return await retry(() => lookUp(this.deps.ledger, partition, keys), {
        what: 'id lookup',
        firstDelayMs: 100,
        maxDelayMs: 5000,
        stop: this.deps.stopping,
        onFailure: warnBeforeRetry(this.deps.log, 'ledger read failed; retrying', { partition, ids: keys.size }),
      });
    } finally {
      clearInterval(beat);
    }
  }

  private async writeReadModel(owner: PartitionOwner, partition: number, decision: BatchDecision, last: number): Promise<void> {
    const mark = owner.readModelMark(last);
    const { accounts, stored } = readModelWrites(owner, decision, last);
    try {
      const answer = await this.deps.readModel.apply(partition, accounts, stored, decision.announced, mark);
      owner.readModel.answered(mark, answer);
      if (answer === 'behind') {
        this.deps.log.warn({ partition, expected: mark.expected }, 'Redis does not hold the partition through the offset expected; reads of it wait for the write-back');
      }
    } catch (err) {
      // Redis is down or refused the write, announcements included (unless the connection dropped
      // after the call ran): the upkeep writes the whole partition back once Redis takes writes again.
      owner.readModel.failed();
      this.deps.log.warn({ partition, err: (err as Error).message }, 'read model not written');
    }
  }

  /**
   * Starts the insert, publishes the documents' events meanwhile, and
   * resolves once they are published to the insert and the commit after it,
   * which go on while kafkajs fetches the next batch: the answers are out
   * already, and the writer inserts groups in order, so commits stay in
   * order. Waiting for the events here keeps a partition's events in log
   * order. A snapshot due now is saved once the insert is done and the events
   * published, so it is never ahead of the ledger nor of the events: a new
   * owner starts from it, and would never publish what lies before it.
   */
  private async writeThenCommit(owner: PartitionOwner, { batch, heartbeat }: BatchPayload, decision: BatchDecision, last: number): Promise<{ written: Promise<void> }> {
    const { writer, committer, snapshots, log } = this.deps;
    const { partition } = batch;
    const snapshot = owner.snapshotDue(this.options.snapshotIntervalMs) ? owner.takeSnapshot() : undefined;
    const inserted = writer.write(decision.docs);
    try {
      await whileBeating(this.publishing.events(partition, decision.docs), heartbeat);
    } catch (err) {
      // Stopping: neither committed nor snapshotted, so the next owner decides the batch again and publishes its events.
      inserted.catch(() => undefined);
      if (snapshot) owner.snapshotDone(snapshot, false);
      throw err;
    }
    const written = inserted.then(() => {
      owner.inserted(last + 1);
      committer.mark(partition, last + 1);
      if (snapshot) void saveSnapshot(snapshots, owner, snapshot, log);
    });
    written.catch((err) => {
      if (snapshot) owner.snapshotDone(snapshot, false);
      log.warn({ partition, err: (err as Error).message }, 'ledger insert abandoned');
    });
    return { written };
  }

  private count(owner: PartitionOwner, partition: number, decision: BatchDecision, lag: number): void {
    this.stats.applied += decision.applied;
    this.stats.deadLettered += decision.deadLetters.length;
    this.stats.lag.set(partition, lag);
    this.deps.onDecided?.(partition, decision, { lag, remembered: owner.ledger.remembered, filterBytes: owner.ledger.filterBytes });
  }
}

/**
 * What the batch writes into Redis. While Redis may lack some of the partition
 * (its owner does not know it whole), the batch also writes every account it
 * answers about without changing it, as of the batch's last offset, and the
 * remembered outcome of every id it answers as a replay: its answers are then
 * never ahead of what Redis serves, even before the write-back.
 */
function readModelWrites(owner: PartitionOwner, decision: BatchDecision, last: number): Pick<BatchDecision, 'accounts' | 'stored'> {
  if (owner.readModel.whole) return decision;
  const accounts = [...decision.accounts];
  const stored = [...decision.stored];
  const written = new Set(accounts.map((write) => write.accountId));
  for (const { outcome } of decision.announced) {
    const account = owner.ledger.account(outcome.accountId);
    if (account && !written.has(outcome.accountId)) {
      written.add(outcome.accountId);
      accounts.push({ accountId: outcome.accountId, offset: last, account });
    }
    // Stored as remembered: the stored form has no `replayed`.
    if (outcome.replayed) stored.push(outcome);
  }
  return { accounts, stored };
}

/** Waits for `work`, keeping the group membership alive meanwhile. */
async function whileBeating(work: Promise<void>, heartbeat: () => Promise<void>): Promise<void> {
  const beat = setInterval(() => void heartbeat().catch(() => undefined), 2000);
  try {
    await work;
  } finally {
    clearInterval(beat);
  }
}

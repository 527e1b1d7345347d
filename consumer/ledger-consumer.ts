// The Kafka wiring of the ledger: a consumer group member that owns some
// partitions. Each batch is decided, written and committed by the
// BatchHandler (consumer/partition-batch.ts); the periodic work beside the
// batches is the PartitionUpkeep's (consumer/partition-upkeep.ts).
//
// On every assignment the state of each owned partition is rebuilt from its
// newest snapshot, and the consumer is sent back to the snapshot's offset, so
// a partition's state always equals a replay of its log: a new owner, a
// restarted one and one that woke from a stall all converge on the same ledger.
import type { Admin, Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import { sleep } from '../common/retry.js';
import type { BatchDecision } from './batch-decision.js';
import { ClockSwitch } from './clock-switch.js';
import { OffsetCommitter } from './committer.js';
import type { DeadLetterPublisher } from './dead-letter.js';
import type { EventPublisher } from './event-publisher.js';
import type { MintedPublisher } from './minted-publisher.js';
import type { LedgerWriter } from './ledger-writer.js';
import type { LedgerFinder } from './id-lookup.js';
import { BatchHandler, type ConsumerStats, type PartitionFigures } from './partition-batch.js';
import { PartitionOwners } from './partition-owners.js';
import { PartitionUpkeep } from './partition-upkeep.js';
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
  /** How far past its `answerBy` a request's approval must be for the owner to cancel it. */
  lateCancelMarginMs: number;
}

export interface LedgerConsumerDeps {
  consumer: Consumer;
  admin: Admin;
  writer: LedgerWriter;
  /** The ledger collection the writer inserts into, where batches look up the ids they may repeat. */
  ledger: LedgerFinder;
  readModel: ReadModelWriter;
  snapshots: SnapshotStore;
  deadLetters: DeadLetterPublisher;
  minted: MintedPublisher;
  /** Publishes each batch's ledger documents as events before its commit; absent when EVENTS_ENABLED=false. */
  events?: EventPublisher;
  log: Logger;
  /** Publishes the ticks that move quiet partitions' clocks (holds lapse by them), and the clock markers. */
  ticker?: Ticker;
}

const UPKEEP_INTERVAL_MS = 1000;

export class LedgerConsumer {
  private readonly committer: OffsetCommitter;
  private readonly owners: PartitionOwners;
  private readonly batches: BatchHandler;
  private readonly upkeep: PartitionUpkeep;
  /** Moves owned partitions to the broker's clock; only a member that ticks publishes markers. */
  private readonly clockSwitch: ClockSwitch | undefined;
  private batchesInFlight = 0;
  private upkeepTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Called when a partition's state was loaded from its snapshots (metrics). */
  onLoaded: ((partition: number) => void) | undefined;
  /** Called after each partition batch is decided (metrics). */
  onDecided: ((partition: number, decision: BatchDecision, after: PartitionFigures) => void) | undefined;

  constructor(
    private readonly deps: LedgerConsumerDeps,
    private readonly options: LedgerConsumerOptions,
  ) {
    const { consumer, log } = deps;
    const { topic } = options;
    const stopping = () => this.stopping;
    this.committer = new OffsetCommitter(
      (offsets) => consumer.commitOffsets(offsets.map(({ partition, offset }) => ({ topic, partition, offset: String(offset) }))),
      log,
    );
    this.owners = new PartitionOwners({ snapshots: deps.snapshots, log, onLoaded: (partition) => this.onLoaded?.(partition) }, options);
    this.batches = new BatchHandler(
      {
        ...deps,
        owners: this.owners,
        committer: this.committer,
        seek: (partition, offset) => consumer.seek({ topic, partition, offset: String(offset) }),
        stopping,
        onDecided: (partition, decision, after) => this.onDecided?.(partition, decision, after),
      },
      options,
    );
    this.upkeep = new PartitionUpkeep({ ...deps, owners: this.owners, stopping }, options);
    const { ticker } = deps;
    if (ticker) {
      this.clockSwitch = new ClockSwitch({ owners: this.owners, admin: deps.admin, publish: (partitions) => ticker.markClock(partitions), log, stopping }, topic);
    }
  }

  get stats(): ConsumerStats {
    return this.batches.stats;
  }

  /** The partitions this member owns now. */
  get partitions(): number[] {
    return this.owners.partitions;
  }

  async start(): Promise<void> {
    const { consumer, admin, ticker } = this.deps;
    const { topic } = this.options;
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.owners.assign(event.payload.memberAssignment[topic] ?? []));
    await consumer.connect();
    await admin.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // Offsets are resolved by hand once a batch is decided, and committed once it is written.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency,
      eachBatch: async (payload) => {
        this.batchesInFlight++;
        try {
          await this.batches.handle(payload);
        } finally {
          this.batchesInFlight--;
        }
      },
    });
    ticker?.start(() => this.partitions);
    this.upkeepTimer = setInterval(() => {
      void this.upkeep.round();
      void this.clockSwitch?.round();
    }, UPKEEP_INTERVAL_MS);
  }

  /** Finishes what was decided (insert, commit) while still a member, then leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.upkeepTimer);
    await this.deps.ticker?.stop();
    this.deps.consumer.pause([{ topic: this.options.topic }]);
    while (this.batchesInFlight > 0) await sleep(20);
    await this.deps.writer.close();
    await this.committer.flush();
    await this.deps.consumer.disconnect();
    await this.deps.admin.disconnect();
  }
}

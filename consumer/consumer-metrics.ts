// Prometheus metrics of one ledger consumer, served on a port of its own
// (CONSUMER_METRICS_PORT): a consumer owns a different set of partitions than
// its peers, so its numbers cannot be folded into an api replica's /metrics.
// Everything is observed through hooks on the components (no polling of
// Kafka): decided batches, ledger inserts, snapshots, ticks and the group
// coordinator's answers to heartbeats.
import type { Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchDecision } from './batch-decision.js';
import type { PartitionFigures } from './partition-batch.js';
import { closeMetricsServer, serveMetrics } from '../common/metrics-server.js';

export class ConsumerMetrics {
  readonly registry = new Registry();
  private readonly applied: Counter<'partition'>;
  private readonly lag: Gauge<'partition'>;
  private readonly outcomes: Counter<'type' | 'status'>;
  private readonly replays: Counter;
  private readonly overdrafts: Counter;
  private readonly expired: Counter;
  private readonly deadLetters: Counter<'partition'>;
  private readonly snapshotAge: Gauge<'partition'>;
  private readonly ticks: Counter;
  private readonly events: Counter;
  private readonly loads: Counter;
  private readonly joins: Counter;
  private readonly insertDocs: Histogram;
  private readonly insertSeconds: Histogram;
  private readonly lagOf = new Map<number, number>();
  private readonly rememberedOf = new Map<number, number>();
  private readonly filterBytesOf = new Map<number, number>();
  private readonly snapshotAt = new Map<number, number>();
  /** When the group coordinator last answered this member (a heartbeat or a join); the process's start before that. */
  private lastContactAt: number;
  private readonly batchMessages: Histogram;
  private readonly decisionDelay: Histogram;
  private server: Server | undefined;
  /** How many partitions the member keeps warm (SnapshotStore.warmPartitions). */
  warm: () => number = () => 0;

  /** `owned()` gives the partitions this consumer owns now: only those are reported per partition. */
  constructor(
    consumerId: string,
    private readonly owned: () => number[],
    private readonly now: () => number = Date.now,
  ) {
    this.lastContactAt = now();
    const r = this.registry;
    r.setDefaultLabels({ consumer: consumerId });
    collectDefaultMetrics({ register: r });
    this.applied = new Counter({
      name: 'teller_consumer_messages_applied_total',
      help: 'Messages decided by this consumer, by partition (rate() gives the apply rate)',
      labelNames: ['partition'],
      registers: [r],
    });
    const self = this;
    this.lag = new Gauge({
      name: 'teller_consumer_lag_messages',
      help: "Messages behind the partition's high watermark after the last decided batch",
      labelNames: ['partition'],
      registers: [r],
      collect() {
        this.reset();
        for (const p of self.owned()) this.set({ partition: String(p) }, self.lagOf.get(p) ?? 0);
      },
    });
    new Gauge({
      name: 'teller_consumer_ids_remembered',
      help: "Transaction ids in the partition's id window (ID_WINDOW_SECONDS) after the last decided batch, as its filter of the window counts them",
      labelNames: ['partition'],
      registers: [r],
      collect() {
        this.reset();
        for (const p of self.owned()) this.set({ partition: String(p) }, self.rememberedOf.get(p) ?? 0);
      },
    });
    new Gauge({
      name: 'teller_consumer_id_filter_bytes',
      help: "Bytes of the bits of the partition's filter of its id window's ids after the last decided batch (held outside V8's heap)",
      labelNames: ['partition'],
      registers: [r],
      collect() {
        this.reset();
        for (const p of self.owned()) this.set({ partition: String(p) }, self.filterBytesOf.get(p) ?? 0);
      },
    });
    this.outcomes = new Counter({
      name: 'teller_consumer_outcomes_total',
      help: 'First decisions by transaction type and outcome status (conflicts included)',
      labelNames: ['type', 'status'],
      registers: [r],
    });
    this.replays = new Counter({ name: 'teller_consumer_replays_total', help: 'Repeats of an id already decided, answered with the first outcome', registers: [r] });
    this.overdrafts = new Counter({ name: 'teller_consumer_overdrafts_total', help: 'Withdrawals that took a balance below zero', registers: [r] });
    this.expired = new Counter({ name: 'teller_consumer_holds_expired_total', help: 'Withdrawal-request holds released at their time to live', registers: [r] });
    this.deadLetters = new Counter({
      name: 'teller_consumer_dead_letters_total',
      help: 'Records sent to the dead-letter topic (unparseable or off-schema), by partition',
      labelNames: ['partition'],
      registers: [r],
    });
    this.snapshotAge = new Gauge({
      name: 'teller_consumer_snapshot_age_seconds',
      help: 'Seconds since this consumer last saved a snapshot of the partition (or took it over, if none since)',
      labelNames: ['partition'],
      registers: [r],
      collect() {
        this.reset();
        const t = self.now();
        for (const p of self.owned()) {
          if (!self.snapshotAt.has(p)) self.snapshotAt.set(p, t);
          this.set({ partition: String(p) }, (t - self.snapshotAt.get(p)!) / 1000);
        }
      },
    });
    new Gauge({
      name: 'teller_consumer_partitions_warm',
      help: 'Partitions whose newest snapshots this consumer keeps merged in memory while it stands by, ready to take over',
      registers: [r],
      collect() {
        this.set(self.warm());
      },
    });
    new Gauge({
      name: 'teller_consumer_partitions_owned',
      help: 'Partitions this consumer applies now (0: it stands by, see ACTIVE_CONSUMERS)',
      registers: [r],
      collect() {
        this.set(self.owned().length);
      },
    });
    // What the consumer can see of Kafka: a member heartbeats every quarter of its session timeout
    // (owners and members standing by alike, see assigner.ts), so an age past the session timeout
    // means its heartbeats are not being taken (Kafka is not answering, or the consumer is stuck),
    // and the group deals its partitions to the others.
    new Gauge({
      name: 'teller_consumer_heartbeat_age_seconds',
      help: "Seconds since the consumer group's coordinator last took this member's heartbeat or join (since the process started, before the first)",
      registers: [r],
      collect() {
        this.set((self.now() - self.lastContactAt) / 1000);
      },
    });
    this.loads = new Counter({
      name: 'teller_consumer_partition_loads_total',
      help: "Partitions whose state this consumer loaded from their snapshots on being assigned them (a partition it already owned keeps its state)",
      registers: [r],
    });
    this.joins = new Counter({
      name: 'teller_consumer_group_joins_total',
      help: 'Times this consumer joined the consumer group and got an assignment: one per rebalance it took part in',
      registers: [r],
    });
    this.ticks = new Counter({ name: 'teller_consumer_ticks_total', help: 'Tick messages published to owned partitions', registers: [r] });
    this.events = new Counter({
      name: 'teller_consumer_events_published_total',
      help: 'Ledger events the broker took on the events topic (EVENTS_TOPIC); a batch published again after a failure counts again',
      registers: [r],
    });
    this.insertDocs = new Histogram({
      name: 'teller_consumer_ledger_insert_documents',
      help: 'Documents per grouped ledger insert',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [r],
    });
    this.insertSeconds = new Histogram({
      name: 'teller_consumer_ledger_insert_seconds',
      help: 'Duration of a grouped ledger insert, retries included',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [r],
    });
    this.batchMessages = new Histogram({
      name: 'teller_consumer_batch_messages',
      help: 'Records per decided partition batch',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
      registers: [r],
    });
    this.decisionDelay = new Histogram({
      name: 'teller_consumer_decision_delay_seconds',
      help: "From a call's arrival at the api (receivedAt) to its decision here, per ledger document",
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
      registers: [r],
    });
  }

  /** A partition batch was decided (LedgerConsumer.onDecided). */
  decided(partition: number, d: BatchDecision, after: PartitionFigures): void {
    const p = String(partition);
    if (d.applied > 0) this.applied.inc({ partition: p }, d.applied);
    if (d.deadLetters.length > 0) this.deadLetters.inc({ partition: p }, d.deadLetters.length);
    this.lagOf.set(partition, after.lag);
    this.rememberedOf.set(partition, after.remembered);
    this.filterBytesOf.set(partition, after.filterBytes);
    this.batchMessages.observe(d.applied + d.deadLetters.length);
    const t = this.now();
    for (const { outcome } of d.announced) {
      if (outcome.replayed) this.replays.inc();
      else this.outcomes.inc({ type: outcome.type, status: outcome.status });
    }
    for (const doc of d.docs) {
      if (doc.type !== 'expire') this.decisionDelay.observe(Math.max(0, t - doc.receivedAt) / 1000);
      if (doc.overdraft) this.overdrafts.inc();
      if (doc.type === 'expire') this.expired.inc();
    }
  }

  joined(): void {
    this.joins.inc();
    this.lastContactAt = this.now();
  }

  /** The group's coordinator took a heartbeat (the kafkajs consumer's HEARTBEAT event). */
  heartbeat(): void {
    this.lastContactAt = this.now();
  }

  loaded(): void {
    this.loads.inc();
  }

  inserted(docs: number, ms: number): void {
    this.insertDocs.observe(docs);
    this.insertSeconds.observe(ms / 1000);
  }

  snapshotSaved(partition: number): void {
    this.snapshotAt.set(partition, this.now());
  }

  ticked(partitions: number[]): void {
    this.ticks.inc(partitions.length);
  }

  eventsPublished(count: number): void {
    this.events.inc(count);
  }

  /** Serves GET /metrics on `port` (loopback by default). */
  async listen(port: number, host: string): Promise<void> {
    this.server = await serveMetrics(this.registry, port, host);
  }

  close(): Promise<void> {
    return closeMetricsServer(this.server);
  }

}

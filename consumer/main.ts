// A ledger consumer process: a member of the consumer group that owns some partitions.
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { PartitionAssigners, Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { loadConfigOrExit } from '../common/config.js';
import { createKafka } from '../common/kafka.js';
import { retry } from '../common/retry.js';
import { activeStandbyAssigner, Membership } from './assigner.js';
import { DeadLetterPublisher } from './dead-letter.js';
import { EventPublisher } from './event-publisher.js';
import { MintedPublisher } from './minted-publisher.js';
import { LedgerConsumer } from './ledger-consumer.js';
import { LedgerWriter } from './ledger-writer.js';
import { ConsumerMetrics } from './consumer-metrics.js';
import { collections, ensureIndexes } from './mongo.js';
import { ReadModelWriter } from './read-model-writer.js';
import { warnBeforeRetry } from './retry-log.js';
import { SnapshotStore } from './snapshots.js';
import { Ticker } from './ticker.js';

const config = loadConfigOrExit();
const log = pino({ level: config.logLevel, base: { service: 'consumer', consumer: config.consumerId } });
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 5000 });
const db = mongo.db(config.mongoDb);
const { transactions } = collections(db);
// Offline queue off: while Redis is down a write fails at once and the batch goes on without it.
// Auto-pipelining sends the Lua calls of the partition batches decided in one tick in one write.
const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: true });
redis.on('error', (err) => log.debug({ err: err.message }, 'redis error'));

const kafka = createKafka(config, `teller-${config.consumerId}`, log);
const membership = new Membership();
const consumer = kafka.consumer({
  groupId: config.groupId,
  // Round robin second: a group whose members do not all know the first falls back to it.
  partitionAssigners: [activeStandbyAssigner(membership, config.activeConsumers), PartitionAssigners.roundRobin],
  sessionTimeout: config.sessionTimeoutMs,
  heartbeatInterval: Math.floor(config.sessionTimeoutMs / 4),
  // The broker answers a fetch once it holds minBytes for it, or after maxWait (raising minBytes trades latency for fuller fetches).
  minBytes: config.fetchMinBytes,
  maxWaitTimeInMs: config.fetchMaxWaitMs,
  maxBytesPerPartition: 4 * 1024 * 1024,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
});
// Dead letters and the cancels of requests approved too late. Not idempotent, for the reason
// given in api/main.ts; a dead letter or a cancel written twice is harmless.
const batchProducer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });

// The ledger events (docs/events.md) have a producer of their own, so that a batch's events never
// wait behind another partition's dead letters or minted messages. Not idempotent either: an event
// written twice is one a subscriber deduplicates by its id.
const eventProducer = config.eventsEnabled ? kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner }) : undefined;
const events = eventProducer ? new EventPublisher(eventProducer, config.eventsTopic, config.partitions) : undefined;

const writer = new LedgerWriter(transactions, config.insertGroupMs, log.child({ component: 'ledger-writer' }));
const snapshots = new SnapshotStore(db, config.snapshotKeep, config.idWindowSeconds * 1000);
// Ticks have a producer of their own, not idempotent: a tick sent twice is harmless, and such a
// producer cannot be left refusing every send by a broker restart mid-send, as an idempotent one can.
const tickProducer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
const ticker = new Ticker(tickProducer, config.topic, config.tickIntervalMs, log.child({ component: 'ticker' }));
const ledger = new LedgerConsumer(
  {
    consumer,
    admin: kafka.admin(),
    writer,
    ledger: transactions,
    readModel: new ReadModelWriter(redis, config.outcomeTtlSeconds),
    snapshots,
    deadLetters: new DeadLetterPublisher(batchProducer, config.dlqTopic),
    minted: new MintedPublisher(batchProducer, config.topic, config.partitions),
    events,
    log,
    ticker,
  },
  {
    topic: config.topic,
    consumerId: config.consumerId,
    idWindowMs: config.idWindowSeconds * 1000,
    snapshotIntervalMs: config.snapshotIntervalMs,
    concurrency: config.partitions,
    lateCancelMarginMs: config.lateCancelMarginMs,
  },
);

function connectMongo(): Promise<void> {
  return retry(
    async () => {
      await mongo.connect();
      await ensureIndexes(db);
    },
    { what: 'mongodb connect', firstDelayMs: 250, maxDelayMs: 5000, onFailure: warnBeforeRetry(log, 'mongodb not reachable yet') },
  );
}

const metrics = new ConsumerMetrics(config.consumerId, () => ledger.partitions);
consumer.on(consumer.events.GROUP_JOIN, (e) => {
  membership.noteAssignment(e.payload.memberAssignment[config.topic]?.length ?? 0);
  metrics.joined();
});
consumer.on(consumer.events.HEARTBEAT, () => metrics.heartbeat());
ledger.onDecided = (partition, decision, after) => metrics.decided(partition, decision, after);
ledger.onLoaded = () => metrics.loaded();
writer.onInsert = (docs, ms) => metrics.inserted(docs, ms);
snapshots.onSaved = (partition) => metrics.snapshotSaved(partition);
metrics.warm = () => snapshots.warmPartitions.length;
ticker.onTick = (partitions) => metrics.ticked(partitions);
if (events) events.onPublished = (count) => metrics.eventsPublished(count);
if (config.consumerMetricsPort > 0) {
  await metrics.listen(config.consumerMetricsPort, config.host).catch((err: Error) => {
    // Metrics are not worth a consumer that cannot start: the ledger goes on without them.
    log.error({ err: err.message, port: config.consumerMetricsPort }, 'metrics port unavailable');
  });
}

await connectMongo();
await batchProducer.connect();
await tickProducer.connect();
await eventProducer?.connect();
await ledger.start();
log.info('consumer started');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: finishing batches in flight, then leaving the group');
  await ledger.stop();
  await Promise.allSettled([batchProducer.disconnect(), tickProducer.disconnect(), eventProducer?.disconnect(), redis.quit(), mongo.close(), metrics.close()]);
  log.info({ applied: ledger.stats.applied }, 'stopped');
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

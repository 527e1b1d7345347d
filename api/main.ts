// An api replica: Fastify in front of the batching producer and the outcome waiter.
import { Redis } from 'ioredis';
import { Partitioners } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { loadConfigOrExit } from '../common/config.js';
import { createKafka } from '../common/kafka.js';
import { retry } from '../common/retry.js';
import { Batcher } from '../producer/batcher.js';
import { RecoveringProducer } from '../producer/recovering-producer.js';
import { CUTS_COLLECTION, type CutDoc } from '../common/cuts.js';
import type { LedgerDoc } from '../common/types.js';
import { AccountHistory } from './account-history.js';
import { Admission, producerHighWater } from './admission.js';
import { buildApp } from './app.js';
import { ApiKeyAuth, parseApiKeys } from './auth.js';
import { ReadinessProbe } from './readiness-probe.js';
import { ApiMetrics } from './api-metrics.js';
import { CommittedOffsets } from './committed-offsets.js';
import { Cuts } from './cuts.js';
import { LedgerReads } from './ledger-reads.js';
import { ReadModel } from './readmodel.js';
import { DEFAULT_STATEMENT_LIMITS, Statements } from './statement.js';
import { Explanations } from './explanations.js';
import { LogRangeReader } from '../consumer/log-range.js';
import { SnapshotStore } from '../consumer/snapshots.js';
import { TransactionSubmitter } from './submit.js';
import { OutcomeWaiter } from './waiter.js';
import { eventsTopicEnds } from './events-topic-ends.js';
import { WebhookRegistry } from './webhook-registry.js';
import { MongoWebhookStore } from './webhook-store.js';

const config = loadConfigOrExit();
const log = pino({ level: config.logLevel, base: { service: 'api', replica: config.replicaId } });

process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

const kafka = createKafka(config, `teller-${config.replicaId}`, log, { requestTimeoutMs: config.producerRequestTimeoutMs });
// Replaced when the broker refuses its sequence numbers (after a broker restart mid-send),
// which would otherwise fail every later send of this replica.
const producer = new RecoveringProducer(
  () =>
    kafka.producer({
      // Not kafkajs's idempotent mode: when a send fails after the broker wrote it (a broker
      // restart mid-send), kafkajs rolls its sequence number back and the next batch goes out
      // with the same sequence, which the broker takes for a duplicate of the written one and
      // acknowledges without writing: an acknowledged call lost (seen in the database-kill chaos
      // case, right after a broker restart). A plain acks=all producer may write a retried batch
      // twice instead, which the partition owner answers as replays of the first decisions.
      idempotent: false,
      maxInFlightRequests: 1,
      // Messages carry an explicit partition (partitionOf); the partitioner is never consulted.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded so a call gets its answer in time; the ledger's id check makes a client's retry safe.
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
      // A send refreshes the producer's metadata when it is older than this. After a request to a
      // stalled leader times out (PRODUCER_REQUEST_TIMEOUT_MS), kafkajs tries again without a
      // refresh (connection errors and retriable protocol errors force one, a timeout does not), so
      // with a cluster the metadata must be young for that retry to reach the leader the controller
      // elected meanwhile: one metadata request a second at most per replica. With one broker there
      // is no other leader to find.
      metadataMaxAge: config.kafkaBrokers.length > 1 ? 1000 : 300_000,
    }),
  log.child({ component: 'producer' }),
);
const admin = kafka.admin();
// Reads the events topic's end offsets when a webhook endpoint is registered; connected on first use.
const webhooksAdmin = kafka.admin();
const batcher = new Batcher(
  producer,
  {
    topic: config.topic,
    lingerMs: config.producerLingerMs,
    batchMax: config.producerBatchMax,
    queueMax: config.producerQueueMax,
    sendTimeoutMs: config.producerSendTimeoutMs,
  },
  log.child({ component: 'producer' }),
);

// Commands fail at once while Redis is down rather than queueing: a call then gets 202, not a hang.
const redisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true } as const;
const redis = new Redis(config.redisUrl, { ...redisOptions, enableAutoPipelining: true });
const subscriber = new Redis(config.redisUrl, { ...redisOptions });
for (const [name, client] of [['redis', redis], ['redis-subscriber', subscriber]] as const) {
  client.on('error', (err) => log.debug({ err, client: name }, 'redis error'));
}
const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 2000 });

let partitions = config.partitions;
let kafkaConnected = false;

const waiter = new OutcomeWaiter(subscriber, config.replicaId, log);
const metrics = new ApiMetrics({
  replicaId: config.replicaId,
  producer: () => batcher.stats(),
  waiting: () => waiter.pending,
  callsInFlight: () => admission.callsInFlight,
});
const admission = new Admission({
  maxCallsInFlight: config.maxCallsInFlight,
  producerQueued: () => batcher.queued,
  producerHighWater: producerHighWater(config.producerQueueMax),
  onRefused: (reason) => metrics.refused(reason),
});
batcher.onBatch = (size, ms) => metrics.batch(size, ms);
let auth: ApiKeyAuth | undefined;
try {
  auth = config.apiKeys === undefined ? undefined : new ApiKeyAuth(parseApiKeys(config.apiKeys));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
const submitter = new TransactionSubmitter({
  batcher,
  waiter,
  redis,
  log,
  replicaId: config.replicaId,
  partitions: () => partitions,
  decisionTimeoutMs: config.decisionTimeoutMs,
  sendTimeoutMs: config.producerSendTimeoutMs,
  idWindowSeconds: config.idWindowSeconds,
  requestTtlSeconds: config.requestTtlSeconds,
  registrySeconds: config.outcomeTtlSeconds,
  holdLimit: config.maxHoldsPerAccount,
  onResult: (tx, result) => metrics.result(tx, result),
});
const probe = new ReadinessProbe(
  {
    kafka: async () => {
      if (!kafkaConnected) throw new Error('producer not connected');
      if (batcher.failing) throw new Error('recent sends failed');
    },
    redis: () => redis.ping(),
    // connect() returns at once when connected; after a failed connect the driver's topology stays
    // closed (every command fails) until connect() is called again, so the probe reconnects too.
    mongodb: async () => (await mongo.connect()).db(config.mongoDb).command({ ping: 1 }),
  },
  log,
);
const ledger = mongo.db(config.mongoDb).collection<LedgerDoc>('transactions');
// Statements and accounts as of a time or a cut take their turns in one queue of ledger reads.
const ledgerReads = new LedgerReads(ledger, { ...DEFAULT_STATEMENT_LIMITS, queueLimit: config.statementQueueLimit });
const history = new AccountHistory(ledgerReads);
const committedOffsets = new CommittedOffsets(kafka.admin(), { topic: config.topic, groupId: config.groupId });
// Replays of decisions run the consumer's pure rules here (docs/architecture.md); the log is read
// through throwaway consumer groups, the snapshots from the ledger's database.
const logRanges = new LogRangeReader(kafka, config.topic, `teller-explain-${config.replicaId}`);
const explanations = new Explanations({
  ledger,
  snapshots: new SnapshotStore(mongo.db(config.mongoDb), config.snapshotKeep, config.idWindowSeconds * 1000),
  log: logRanges,
  partitions: () => partitions,
  idWindowMs: config.idWindowSeconds * 1000,
});
const app = await buildApp({
  log,
  bodyLimit: config.bodyLimit,
  submitter,
  readModel: new ReadModel(redis, () => partitions, ledger),
  probe,
  statements: new Statements(ledgerReads),
  history,
  cuts: new Cuts({
    store: mongo.db(config.mongoDb).collection<CutDoc>(CUTS_COLLECTION),
    offsets: committedOffsets,
    history,
    source: { topic: config.topic, groupId: config.groupId },
  }),
  explanations,
  metrics,
  admission,
  ...(auth ? { auth } : {}),
  webhooks: new WebhookRegistry({
    store: new MongoWebhookStore(mongo.db(config.mongoDb)),
    eventsTopicEnds: eventsTopicEnds(webhooksAdmin, config.eventsTopic),
    maxEndpoints: config.webhooksMaxEndpoints,
  }),
});

/** Connects to Kafka in the background until it answers; meanwhile calls get 503. */
async function connectKafka(): Promise<void> {
  await retry(
    async () => {
      await producer.connect();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: [config.topic] });
      partitions = meta.topics[0]?.partitions.length || config.partitions;
      await admin.disconnect();
    },
    {
      what: 'connect to kafka',
      firstDelayMs: 250,
      maxDelayMs: 5000,
      onFailure: ({ err, retryInMs }) => log.warn({ err: (err as Error).message, retryInMs }, 'kafka not reachable yet'),
    },
  );
  kafkaConnected = true;
  log.info({ partitions }, 'connected to kafka');
}

for (const client of [redis, subscriber]) client.connect().catch(() => undefined);
mongo.connect().catch((err) => log.warn({ err: err.message }, 'mongodb not reachable yet'));
const kafkaReady = connectKafka();
probe.start();
// NGINX sends calls to a replica as soon as it listens (until then it takes the next one): a
// restarted replica listens once its producer is connected, so its first calls are not 503s. Bounded,
// so a replica started during a Kafka outage still answers /healthz and, with 503s, its calls.
await Promise.race([kafkaReady, new Promise((r) => setTimeout(r, 10_000))]);
// NGINX may open hundreds of connections to a replica at once when a burst of clients arrives (it keeps
// 1,024 idle ones); node's default backlog of 511 would drop the SYNs past it while the event loop is
// busy, and a SYN retried after 1 s misses NGINX's 1 s proxy_connect_timeout: a 504. The kernel caps
// the backlog at net.core.somaxconn (4096 on current kernels).
await app.listen({ host: config.host, port: config.apiPort, backlog: 4096 });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: no new calls, finishing those in flight');
  probe.stop();
  await app.close(); // waits for in-flight calls, which wait for their outcomes
  await batcher.stop();
  await Promise.allSettled([producer.disconnect(), webhooksAdmin.disconnect(), committedOffsets.close(), logRanges.close(), redis.quit(), subscriber.quit(), mongo.close()]);
  log.info('stopped');
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

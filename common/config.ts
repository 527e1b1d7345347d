// Configuration is read from the environment once, validated, and frozen.
// Every setting has a default that works on one machine; a bad value stops the
// process at start with a message naming each offending variable.

type Source = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Source) {}

  str(name: string, def: string, pattern?: RegExp): string {
    const raw = this.env[name];
    const value = raw === undefined || raw === '' ? def : raw;
    if (pattern && !pattern.test(value)) this.problems.push(`${name}=${JSON.stringify(value)} does not match ${pattern}`);
    return value;
  }

  int(name: string, def: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(raw)} must be an integer in [${min}, ${max}]`);
      return def;
    }
    return n;
  }

  bool(name: string, def: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return def;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    this.problems.push(`${name}=${JSON.stringify(raw)} must be a boolean (true/false)`);
    return def;
  }

  optional(name: string): string | undefined {
    const raw = this.env[name];
    return raw === undefined || raw === '' ? undefined : raw;
  }
}

const HOST = /^[A-Za-z0-9.:[\]-]+$/;
const LEVELS = /^(fatal|error|warn|info|debug|trace|silent)$/;
const TOPIC = /^[A-Za-z0-9._-]{1,200}$/;

export type Durability = 'fast' | 'fsync' | 'replicated';

/** The local Kafka nodes' client addresses: node i on `kafkaPort + 2(i - 1)`, its controller on the next port. */
export function localBrokers(kafkaPort: number, nodes: number): string[] {
  return Array.from({ length: nodes }, (_, i) => `127.0.0.1:${kafkaPort + 2 * i}`);
}

/**
 * How the topics are replicated on the local Kafka: on every node up to three,
 * and an acknowledged write (acks=all) on at least two of them once there are
 * three, so that one node lost loses nothing acknowledged and still takes writes.
 */
export function localReplication(nodes: number): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = Math.min(3, nodes);
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}

export function readConfig(env: Source = process.env) {
  const r = new Reader(env);
  const idWindowSeconds = r.int('ID_WINDOW_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600);
  const config = {
    logLevel: r.str('LOG_LEVEL', 'info', LEVELS),
    host: r.str('TELLER_HOST', '127.0.0.1', HOST),
    port: r.int('TELLER_PORT', 8080, 1, 65535),
    apiReplicas: r.int('API_REPLICAS', 2, 1, 64),
    apiBasePort: r.int('API_BASE_PORT', 3101, 1, 65000),
    apiPort: r.int('API_PORT', 3101, 1, 65535),
    replicaId: r.str('REPLICA_ID', `api-${process.pid}`, /^[A-Za-z0-9._-]{1,64}$/),
    consumers: r.int('CONSUMERS', 2, 1, 64),
    activeConsumers: r.int('ACTIVE_CONSUMERS', 1, 0, 1024),
    consumerId: r.str('CONSUMER_ID', `consumer-${process.pid}`, /^[A-Za-z0-9._-]{1,64}$/),
    kafkaPort: r.int('KAFKA_PORT', 9092, 1, 65535),
    // The local Kafka's nodes, each broker and controller in one: node i listens on KAFKA_PORT + 2(i - 1)
    // and its controller on the port after it. Three give replicated topics (docs/kafka-cluster.md).
    // Ignored when KAFKA_BROKERS names a Kafka (the supervisor hands its children the local one's so).
    kafkaNodes: r.int('KAFKA_NODES', 1, 1, 5),
    // What an acknowledged call survives on the local stack (docs/durability.md): `fast` acknowledges from
    // the page caches, `fsync` once Kafka and SQLite have synced it to disk, `replicated` once two of
    // three Kafka nodes hold it (KAFKA_NODES=3).
    durability: r.str('TELLER_DURABILITY', 'fast', /^(fast|fsync|replicated)$/) as Durability,
    // The local services' URLs follow their ports unless the service is external.
    kafkaBrokers: [] as string[],
    kafkaExternal: env.KAFKA_BROKERS !== undefined && env.KAFKA_BROKERS !== '',
    topic: r.str('KAFKA_TOPIC', 'teller.transactions', TOPIC),
    dlqTopic: r.str('KAFKA_DLQ_TOPIC', 'teller.transactions.dlq', TOPIC),
    // Every ledger document becomes an event on this topic (docs/events.md), before its batch is committed.
    eventsEnabled: r.bool('EVENTS_ENABLED', true),
    eventsTopic: r.str('EVENTS_TOPIC', 'teller.events', TOPIC),
    // The events topic's retention.ms when it is created: how long a subscriber may stay away and still catch up.
    eventsRetentionMs: r.int('EVENTS_RETENTION_MS', 7 * 24 * 3600 * 1000, 3600 * 1000, 3650 * 24 * 3600 * 1000),
    // Each partition's batch costs its own fetch entry, Redis call and decision: on a small machine,
    // where one consumer applies them all, six give fuller batches than twelve (compare
    // `npm run bench -- --phases contract` with KAFKA_PARTITIONS=12 on empty data). It also caps
    // the members that can apply a share at six.
    partitions: r.int('KAFKA_PARTITIONS', 6, 1, 1024),
    groupId: r.str('KAFKA_GROUP', 'teller-ledger', TOPIC),
    // 6 s is the broker's minimum (group.min.session.timeout.ms): a dead consumer's partitions move soonest.
    sessionTimeoutMs: r.int('KAFKA_SESSION_TIMEOUT_MS', 6000, 3000, 300000),
    mongoPort: r.int('FERRETDB_PORT', 27117, 1, 65535),
    mongoUri: '',
    mongoExternal: env.MONGODB_URI !== undefined && env.MONGODB_URI !== '',
    mongoDb: r.str('MONGODB_DB', 'teller', /^[A-Za-z0-9_-]{1,64}$/),
    redisPort: r.int('REDIS_PORT', 6479, 1, 65535),
    redisUrl: '',
    redisExternal: env.REDIS_URL !== undefined && env.REDIS_URL !== '',
    decisionTimeoutMs: r.int('DECISION_TIMEOUT_MS', 3000, 50, 60000),
    // An owner cancels a withdrawal request it approves more than this past the api's answer to
    // it (a timeout): the margin covers the skew between the api's clock and the owner's.
    lateCancelMarginMs: r.int('LATE_CANCEL_MARGIN_MS', 1000, 0, 600_000),
    idWindowSeconds,
    // At most the id window (checked below): a hold must not outlive its id. Unset, it follows a shorter window.
    requestTtlSeconds: r.int('REQUEST_TTL_SECONDS', Math.min(7 * 24 * 3600, idWindowSeconds), 1, 365 * 24 * 3600),
    // How long Redis keeps an id's outcome and its registration across accounts; the ledger answers after it.
    outcomeTtlSeconds: r.int('OUTCOME_TTL_SECONDS', Math.min(600, idWindowSeconds), 10, 24 * 3600),
    // Open holds an account may have before a new withdrawal request is denied (hold_limit): what bounds
    // the work of each call on the account, since its holds are copied and searched on every change.
    maxHoldsPerAccount: r.int('MAX_HOLDS_PER_ACCOUNT', 1000, 1, 1_000_000),
    producerLingerMs: r.int('PRODUCER_LINGER_MS', 2, 0, 1000),
    producerBatchMax: r.int('PRODUCER_BATCH_MAX', 1000, 1, 100000),
    producerQueueMax: r.int('PRODUCER_QUEUE_MAX', 20000, 1, 10000000),
    // Its default follows the brokers, known below.
    producerSendTimeoutMs: 0,
    producerRequestTimeoutMs: 0,
    // Write calls one api replica takes at once; the next is refused at once, 503 `overloaded` (api/admission.ts).
    // Chosen by Little's law (calls in flight = rate x time each takes): measured on a two-core machine the
    // stack decides about 8,000 calls/s over two replicas, p50 17 ms, p99 50 ms, which is about 70 calls in
    // flight per replica at the median and 200 at the p99, so 256 refuses nothing while the ledger keeps up.
    // When it falls behind, the calls waiting for their decisions are at most 256 per replica rather than
    // everything sent in the 3 s deadline, and so are their waiters and buffers: a few kilobytes each, a few
    // megabytes in all against a replica's 80 MB.
    maxCallsInFlight: r.int('MAX_CALLS_IN_FLIGHT', 256, 1, 100_000),
    insertGroupMs: r.int('INSERT_GROUP_MS', 40, 0, 1000),
    fetchMinBytes: r.int('KAFKA_FETCH_MIN_BYTES', 1, 1, 64 * 1024 * 1024),
    fetchMaxWaitMs: r.int('KAFKA_FETCH_MAX_WAIT_MS', 100, 1, 10_000),
    snapshotIntervalMs: r.int('SNAPSHOT_INTERVAL_MS', 30000, 100, 3600000),
    snapshotKeep: r.int('SNAPSHOT_KEEP', 2, 1, 100),
    bodyLimit: r.int('BODY_LIMIT_BYTES', 16 * 1024, 256, 1024 * 1024),
    // Each replica reads one statement at a time; this many more may wait for their turn, the next gets 503.
    statementQueueLimit: r.int('STATEMENT_QUEUE_LIMIT', 8, 0, 10_000),
    dataDir: r.str('TELLER_DATA_DIR', '.data'),
    cacheDir: r.str('TELLER_CACHE_DIR', '.cache'),
    runDir: r.str('TELLER_RUN_DIR', '.run'),
    apiKeys: r.optional('API_KEYS'),
    // Extra node flags for the api replicas, consumers and dispatcher the supervisor starts (e.g. --cpu-prof);
    // node refuses --cpu-prof in NODE_OPTIONS.
    nodeArgs: r
      .str('TELLER_NODE_ARGS', '', /^[A-Za-z0-9_=.,/:+ -]*$/)
      .split(' ')
      .filter(Boolean),
    // Each consumer publishes a tick to its partitions this often, so quiet partitions lapse their holds.
    tickIntervalMs: r.int('TICK_INTERVAL_MS', 60_000, 100, 24 * 3600 * 1000),
    // Consumers serve Prometheus metrics on their own port: the supervisor gives consumer i base + i - 1; 0 turns it off.
    consumerMetricsBasePort: r.int('CONSUMER_METRICS_BASE_PORT', 3201, 1, 65000),
    consumerMetricsPort: r.int('CONSUMER_METRICS_PORT', 0, 0, 65535),
    // The webhook dispatcher (docs/webhooks.md): `npm start` runs it when this and EVENTS_ENABLED are both true.
    webhooksEnabled: r.bool('WEBHOOKS_ENABLED', true),
    // Its Prometheus metrics (0: none); also the port the supervisor lists for it.
    webhooksMetricsPort: r.int('WEBHOOKS_METRICS_PORT', 3301, 0, 65535),
    // How often it reads the endpoints (starting and stopping their consumers), the dead letters
    // marked for redelivery, and the events topic's end offsets for its lag.
    webhooksReloadIntervalMs: r.int('WEBHOOKS_RELOAD_INTERVAL_MS', 2000, 100, 60_000),
    // Each endpoint has a consumer of its own (its connections and fetches): this bounds them.
    webhooksMaxEndpoints: r.int('WEBHOOKS_MAX_ENDPOINTS', 50, 1, 1000),
    // One delivery attempt: no answer's headers within this is a failure.
    webhookTimeoutMs: r.int('WEBHOOK_TIMEOUT_MS', 5000, 100, 120_000),
    // Retries wait a random time up to min(cap, base x 2^failures) (exponential backoff, full jitter).
    webhookBackoffBaseMs: r.int('WEBHOOK_BACKOFF_BASE_MS', 1000, 10, 3_600_000),
    webhookBackoffCapMs: r.int('WEBHOOK_BACKOFF_CAP_MS', 600_000, 10, 24 * 3600 * 1000),
    // How long an account's deliveries to an endpoint may keep failing before its event is dead-lettered.
    webhookRetryHorizonSeconds: r.int('WEBHOOK_RETRY_HORIZON_SECONDS', 24 * 3600, 1, 30 * 24 * 3600),
    // Requests in flight to one endpoint at most (its accounts are delivered side by side).
    webhookConcurrency: r.int('WEBHOOK_CONCURRENCY', 8, 1, 256),
    // NGINX's limit per client address, in requests a second (0: no limit) and a burst above it.
    rateLimitRps: r.int('RATE_LIMIT_RPS', 0, 0, 1_000_000),
    rateLimitBurst: r.int('RATE_LIMIT_BURST', 100, 0, 1_000_000),
  };
  config.kafkaBrokers = r
    .str('KAFKA_BROKERS', localBrokers(config.kafkaPort, config.kafkaNodes).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // How long a batch of calls may take to be confirmed, re-sends included (producer/batch-attempts.ts).
  // With one broker nothing can take over a partition, so waiting longer only delays the 503. With
  // more, a lost leader's partitions move once the controller fences it (the broker session, 2 s on
  // the local cluster) and the producer finds the new leader after a metadata refresh. When the lost
  // node was also the active controller, a new controller is elected first: a stalled leader and
  // controller took 7 s to leave on the local cluster. 10 s covers it, within NGINX's 15 s.
  config.producerSendTimeoutMs = r.int('PRODUCER_SEND_TIMEOUT_MS', config.kafkaBrokers.length > 1 ? 10_000 : 2000, 100, 60000);
  // How long the api waits for one Kafka request's answer. A stalled broker (paused, or a machine that
  // stops answering) holds a request until this; kafkajs then tries again, refreshing its metadata when
  // older than the producer's metadataMaxAge, and so finds the partition's new leader. With more than
  // one broker 2.5 s leaves the send's 10 s room for three tries after the first; with one, kafkajs's 10 s.
  config.producerRequestTimeoutMs = r.int('PRODUCER_REQUEST_TIMEOUT_MS', config.kafkaBrokers.length > 1 ? 2500 : 10000, 100, 60000);
  config.mongoUri = r.str('MONGODB_URI', `mongodb://127.0.0.1:${config.mongoPort}/${config.mongoDb}`, /^mongodb(\+srv)?:\/\//);
  config.redisUrl = r.str('REDIS_URL', `redis://127.0.0.1:${config.redisPort}`, /^rediss?:\/\//);
  if (config.kafkaBrokers.length > 1 && 2 * config.producerRequestTimeoutMs > config.producerSendTimeoutMs) {
    r.problems.push(
      `PRODUCER_REQUEST_TIMEOUT_MS=${config.producerRequestTimeoutMs} is more than half of PRODUCER_SEND_TIMEOUT_MS=${config.producerSendTimeoutMs}: a send to a stalled Kafka node would have no time left to reach the new leader`,
    );
  }
  if (config.requestTtlSeconds > config.idWindowSeconds) {
    r.problems.push(`REQUEST_TTL_SECONDS=${config.requestTtlSeconds} is longer than ID_WINDOW_SECONDS=${config.idWindowSeconds}: a hold must not outlive its id`);
  }
  if (config.outcomeTtlSeconds > config.idWindowSeconds) {
    r.problems.push(`OUTCOME_TTL_SECONDS=${config.outcomeTtlSeconds} is longer than ID_WINDOW_SECONDS=${config.idWindowSeconds}: Redis would answer for ids the ledger has forgotten`);
  }
  if (config.durability === 'replicated' && !config.kafkaExternal && config.kafkaNodes < 3) {
    r.problems.push(`TELLER_DURABILITY=replicated needs a replicated Kafka: KAFKA_NODES=3 (or more), or KAFKA_BROKERS naming a cluster`);
  }
  if (config.eventsTopic === config.topic || config.eventsTopic === config.dlqTopic) {
    r.problems.push(`EVENTS_TOPIC=${config.eventsTopic} is the transaction or dead-letter topic: the events need a topic of their own`);
  }
  if (config.webhookBackoffCapMs < config.webhookBackoffBaseMs) {
    r.problems.push(`WEBHOOK_BACKOFF_CAP_MS=${config.webhookBackoffCapMs} is below WEBHOOK_BACKOFF_BASE_MS=${config.webhookBackoffBaseMs}: the cap bounds the base's doublings`);
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return Object.freeze(config);
}

export type Config = ReturnType<typeof readConfig>;

/** Reads and validates once; exits with a clear message when the environment is wrong. */
export function loadConfigOrExit(): Config {
  try {
    return readConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

// Settings that bound each other (common/config.ts): a hold must not outlive
// its id, and Redis keeps an id no longer than the ledger remembers it; unset,
// such a setting follows a shorter id window rather than refuse it.
import t from 'tap';
import { ConfigError, localReplication, readConfig } from '../../common/config.js';

t.test('the defaults', async (t) => {
  const config = readConfig({});
  t.equal(config.idWindowSeconds, 7 * 24 * 3600);
  t.equal(config.requestTtlSeconds, 7 * 24 * 3600, 'a hold lives as long as its id, at most');
  t.equal(config.outcomeTtlSeconds, 600, 'Redis keeps an outcome ten minutes');
});

t.test('a hold longer than the id window is refused at start, naming both settings', async (t) => {
  t.throws(() => readConfig({ ID_WINDOW_SECONDS: '3600', REQUEST_TTL_SECONDS: '3601' }), ConfigError);
  try {
    readConfig({ ID_WINDOW_SECONDS: '3600', REQUEST_TTL_SECONDS: '3601' });
  } catch (err) {
    t.match((err as ConfigError).problems, [/REQUEST_TTL_SECONDS=3601 is longer than ID_WINDOW_SECONDS=3600/]);
  }
  t.equal(readConfig({ ID_WINDOW_SECONDS: '3600', REQUEST_TTL_SECONDS: '3600' }).requestTtlSeconds, 3600, 'as long as the window: taken');
});

t.test('an outcome kept in Redis longer than the id window is refused', async (t) => {
  t.throws(() => readConfig({ ID_WINDOW_SECONDS: '120', OUTCOME_TTL_SECONDS: '121' }), /OUTCOME_TTL_SECONDS=121 is longer than ID_WINDOW_SECONDS=120/);
  t.throws(() => readConfig({ OUTCOME_TTL_SECONDS: '5' }), /OUTCOME_TTL_SECONDS/, 'below its minimum');
});

t.test('unset, the time to live of holds and of outcomes follow a shorter window', async (t) => {
  const config = readConfig({ ID_WINDOW_SECONDS: '300' });
  t.equal(config.requestTtlSeconds, 300);
  t.equal(config.outcomeTtlSeconds, 300);
});

t.test('the ledger events: on by default, on their own topic, kept a week unless told', async (t) => {
  const config = readConfig({});
  t.same([config.eventsEnabled, config.eventsTopic, config.eventsRetentionMs], [true, 'teller.events', 7 * 24 * 3600 * 1000]);
  const off = readConfig({ EVENTS_ENABLED: 'false', EVENTS_TOPIC: 'bank.events', EVENTS_RETENTION_MS: '86400000' });
  t.same([off.eventsEnabled, off.eventsTopic, off.eventsRetentionMs], [false, 'bank.events', 86_400_000]);
});

t.test('bad event settings are refused at start, each named', async (t) => {
  try {
    readConfig({ EVENTS_ENABLED: 'maybe', EVENTS_TOPIC: 'no spaces', EVENTS_RETENTION_MS: '1000' });
    t.fail('refused');
  } catch (err) {
    t.match((err as ConfigError).problems, [/EVENTS_ENABLED="maybe" must be a boolean/, /EVENTS_TOPIC="no spaces" does not match/, /EVENTS_RETENTION_MS="1000" must be an integer/]);
  }
  t.throws(() => readConfig({ EVENTS_TOPIC: 'teller.transactions' }), /EVENTS_TOPIC=teller.transactions is the transaction or dead-letter topic/);
  t.throws(() => readConfig({ KAFKA_DLQ_TOPIC: 'x.dlq', EVENTS_TOPIC: 'x.dlq' }), /EVENTS_TOPIC=x.dlq/);
});

t.test('KAFKA_NODES: the local nodes and how their topics are replicated', async (t) => {
  t.same(readConfig({}).kafkaBrokers, ['127.0.0.1:9092'], 'one node by default');
  t.same(readConfig({ KAFKA_NODES: '3', KAFKA_PORT: '19092' }).kafkaBrokers, ['127.0.0.1:19092', '127.0.0.1:19094', '127.0.0.1:19096'], 'a node every two ports');
  t.same(readConfig({ KAFKA_NODES: '3', KAFKA_BROKERS: '10.0.0.1:9092' }).kafkaBrokers, ['10.0.0.1:9092'], 'a given cluster wins');
  t.throws(() => readConfig({ KAFKA_NODES: '6' }), /KAFKA_NODES/);
  t.same(localReplication(1), { replicationFactor: 1, minInsyncReplicas: 1 });
  t.same(localReplication(2), { replicationFactor: 2, minInsyncReplicas: 1 });
  t.same(localReplication(3), { replicationFactor: 3, minInsyncReplicas: 2 }, 'three: a write on two, one node may be lost');
  t.same(localReplication(5), { replicationFactor: 3, minInsyncReplicas: 2 });
});

t.test('TELLER_DURABILITY: replicated needs a replicated Kafka', async (t) => {
  t.equal(readConfig({}).durability, 'fast');
  t.equal(readConfig({ TELLER_DURABILITY: 'fsync' }).durability, 'fsync');
  t.throws(() => readConfig({ TELLER_DURABILITY: 'replicated' }), /KAFKA_NODES=3/);
  t.equal(readConfig({ TELLER_DURABILITY: 'replicated', KAFKA_NODES: '3' }).durability, 'replicated');
  t.equal(readConfig({ TELLER_DURABILITY: 'replicated', KAFKA_BROKERS: '10.0.0.1:9092' }).durability, 'replicated', "an external cluster's replication is its own");
  t.throws(() => readConfig({ TELLER_DURABILITY: 'safe' }), /TELLER_DURABILITY/);
});

t.test('the webhook dispatcher: on by default, retrying for a day from 1 s up to 10 min; bad settings refused, each named', async (t) => {
  t.match(readConfig({}), {
    webhooksEnabled: true,
    webhooksMetricsPort: 3301,
    webhookTimeoutMs: 5000,
    webhookBackoffBaseMs: 1000,
    webhookBackoffCapMs: 600_000,
    webhookRetryHorizonSeconds: 86_400,
    webhookConcurrency: 8,
    webhooksReloadIntervalMs: 2000,
  });
  t.throws(() => readConfig({ WEBHOOK_BACKOFF_BASE_MS: '5000', WEBHOOK_BACKOFF_CAP_MS: '4000' }), /WEBHOOK_BACKOFF_CAP_MS=4000 is below WEBHOOK_BACKOFF_BASE_MS=5000/);
  try {
    readConfig({ WEBHOOKS_ENABLED: 'maybe', WEBHOOK_RETRY_HORIZON_SECONDS: '0', WEBHOOK_CONCURRENCY: '0', WEBHOOK_TIMEOUT_MS: '10' });
    t.fail('refused');
  } catch (err) {
    t.match((err as ConfigError).problems, [/WEBHOOKS_ENABLED/, /WEBHOOK_TIMEOUT_MS/, /WEBHOOK_RETRY_HORIZON_SECONDS/, /WEBHOOK_CONCURRENCY/]);
  }
  t.equal(readConfig({ WEBHOOKS_ENABLED: 'false' }).webhooksEnabled, false);
});

t.test('MAX_CALLS_IN_FLIGHT: 256 a replica unless told, a positive integer', async (t) => {
  t.equal(readConfig({}).maxCallsInFlight, 256);
  t.equal(readConfig({ MAX_CALLS_IN_FLIGHT: '1000' }).maxCallsInFlight, 1000);
  for (const bad of ['0', '-1', '1.5', 'many']) t.throws(() => readConfig({ MAX_CALLS_IN_FLIGHT: bad }), /MAX_CALLS_IN_FLIGHT/, bad);
});

t.test('PRODUCER_REQUEST_TIMEOUT_MS: 10 s with one broker, 2.5 s with more (a stalled leader is left in time), 100 ms to 60 s', async (t) => {
  t.equal(readConfig({}).producerRequestTimeoutMs, 10000, 'one broker');
  t.equal(readConfig({ KAFKA_NODES: '3' }).producerRequestTimeoutMs, 2500, 'a local cluster');
  t.equal(readConfig({ KAFKA_BROKERS: '127.0.0.1:9092,127.0.0.1:9094' }).producerRequestTimeoutMs, 2500, 'brokers named');
  t.equal(readConfig({ KAFKA_NODES: '3', PRODUCER_REQUEST_TIMEOUT_MS: '4000' }).producerRequestTimeoutMs, 4000, 'a value given wins');
  for (const bad of ['99', '60001', 'later']) t.throws(() => readConfig({ PRODUCER_REQUEST_TIMEOUT_MS: bad }), /PRODUCER_REQUEST_TIMEOUT_MS/, bad);
});

t.test('with a Kafka cluster, PRODUCER_REQUEST_TIMEOUT_MS is at most half the send time, so a stalled node leaves room for another try', async (t) => {
  t.throws(() => readConfig({ KAFKA_NODES: '3', PRODUCER_SEND_TIMEOUT_MS: '4000' }), /PRODUCER_REQUEST_TIMEOUT_MS=2500 is more than half of PRODUCER_SEND_TIMEOUT_MS=4000/);
  t.equal(readConfig({ KAFKA_NODES: '3', PRODUCER_SEND_TIMEOUT_MS: '5000' }).producerSendTimeoutMs, 5000, 'exactly half is enough');
  t.equal(readConfig({ PRODUCER_SEND_TIMEOUT_MS: '2000' }).producerRequestTimeoutMs, 10000, 'one broker: no other leader to reach, nothing checked');
});

t.test('PRODUCER_SEND_TIMEOUT_MS: 2 s with one broker, 10 s with more (a lost leader is replaced within it), 100 ms to 60 s', async (t) => {
  t.equal(readConfig({}).producerSendTimeoutMs, 2000, 'one local node: nothing could take over a partition');
  t.equal(readConfig({ KAFKA_BROKERS: '10.0.0.1:9092' }).producerSendTimeoutMs, 2000, 'one given broker');
  t.equal(readConfig({ KAFKA_BROKERS: '10.0.0.1:9092,10.0.0.2:9092,10.0.0.3:9092' }).producerSendTimeoutMs, 10000, 'a given cluster');
  t.equal(readConfig({ KAFKA_NODES: '3' }).producerSendTimeoutMs, 10000, 'three local nodes');
  t.equal(readConfig({ KAFKA_NODES: '3', PRODUCER_SEND_TIMEOUT_MS: '8000' }).producerSendTimeoutMs, 8000, 'a value given wins');
  for (const bad of ['99', '60001', 'soon']) t.throws(() => readConfig({ PRODUCER_SEND_TIMEOUT_MS: bad }), /PRODUCER_SEND_TIMEOUT_MS/, bad);
});

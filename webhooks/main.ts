// The webhook dispatcher process (docs/webhooks.md): posts the ledger events
// to the registered endpoints, signed, each endpoint from a consumer of its
// own; retries, dead letters and their redelivery. `npm start` runs one.
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { loadConfigOrExit } from '../common/config.js';
import { createKafka } from '../common/kafka.js';
import { oneAtATime } from '../common/one-at-a-time.js';
import { retry, sleep } from '../common/retry.js';
import { Dispatcher } from './dispatcher.js';
import { EndpointConsumer, type EndpointSettings } from './endpoint-consumer.js';
import { Redelivery } from './redelivery.js';
import { WebhookDocuments } from './webhook-documents.js';
import { WebhookMetrics } from './webhook-metrics.js';

const config = loadConfigOrExit();
const log = pino({ level: config.logLevel, base: { service: 'webhooks' } });
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
if (!config.eventsEnabled) log.warn('EVENTS_ENABLED=false: no events are published, so none is delivered');

const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 5000 });
const documents = new WebhookDocuments(mongo.db(config.mongoDb));
const kafka = createKafka(config, 'teller-webhooks', log);
const admin = kafka.admin();
const metrics = new WebhookMetrics({
  retryHorizonSeconds: config.webhookRetryHorizonSeconds,
  timeoutMs: config.webhookTimeoutMs,
  backoffBaseMs: config.webhookBackoffBaseMs,
  backoffCapMs: config.webhookBackoffCapMs,
});
const settings: EndpointSettings = {
  topic: config.eventsTopic,
  partitions: config.partitions,
  sessionTimeoutMs: config.sessionTimeoutMs,
  timeoutMs: config.webhookTimeoutMs,
  concurrency: config.webhookConcurrency,
  policy: { baseMs: config.webhookBackoffBaseMs, capMs: config.webhookBackoffCapMs, horizonMs: config.webhookRetryHorizonSeconds * 1000 },
};
const dispatcher = new Dispatcher({
  documents,
  admin,
  metrics,
  log,
  topic: config.eventsTopic,
  createConsumer: (endpoint) => new EndpointConsumer(endpoint, settings, { kafka, admin, documents, metrics, log, clock: { now: Date.now, sleep } }),
});
const redelivery = new Redelivery({ documents, consumerOf: (id) => dispatcher.consumerOf(id), metrics, log });

if (config.webhooksMetricsPort > 0) {
  await metrics.listen(config.webhooksMetricsPort, config.host).catch((err: Error) => {
    // Metrics are not worth deliveries that do not happen: the dispatcher goes on without them.
    log.error({ err: err.message, port: config.webhooksMetricsPort }, 'metrics port unavailable');
  });
}

await retry(
  async () => {
    await mongo.connect();
    await documents.ensureIndexes();
    await admin.connect();
  },
  { what: 'connect', firstDelayMs: 250, maxDelayMs: 5000, onFailure: ({ err, retryInMs }) => log.warn({ err: (err as Error).message, retryInMs }, 'mongodb or kafka not reachable yet') },
);
await dispatcher.deleteLeftoverGroups().catch((err: Error) => log.warn({ err: err.message }, 'the groups of deleted endpoints were not deleted'));

let stopping = false;
/** A round that fails (the database or Kafka away) is logged; the next one tries again. None starts once stopping. */
const guarded = (what: string, work: () => Promise<void>) =>
  oneAtATime(async () => {
    if (stopping) return;
    try {
      await work();
    } catch (err) {
      log.warn({ err: (err as Error).message }, `${what} failed; trying again`);
    }
  });
const reload = guarded('reading the endpoints', async () => {
  await dispatcher.reload();
  await dispatcher.measure();
});
const redeliver = guarded('redelivery', () => redelivery.round());
const rounds = [reload, redeliver];
const timers = rounds.map((round) => {
  void round();
  return setInterval(() => void round(), config.webhooksReloadIntervalMs);
});
log.info({ reloadIntervalMs: config.webhooksReloadIntervalMs }, 'webhook dispatcher started');

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: batches in flight end uncommitted and are delivered again at the next start');
  for (const timer of timers) clearInterval(timer);
  // Rounds in flight finish before the consumers go, so none starts a consumer after them.
  for (const round of rounds) while (!(await round())) await sleep(50);
  await dispatcher.stop();
  await Promise.allSettled([admin.disconnect(), mongo.close(), metrics.close()]);
  log.info('stopped');
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

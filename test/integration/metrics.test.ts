// Prometheus metrics on the real stack: each api replica's /metrics (through
// NGINX and on the replica itself) and each consumer's own metrics port, moved
// by real calls: requests by route and status, producer batches, outcomes,
// lag and apply rate per owned partition, overdrafts, dead letters, snapshots.
import { Kafka, logLevel } from 'kafkajs';
import t from 'tap';
import { partitionOf } from '../../common/message.js';
import { parsePrometheus as parse, sumOf as sum, type Sample } from '../../scripts/shared/prometheus-text.js';
import { uniq } from '../helpers/http.js';
import { baseUrl, config, readStack, waitFor } from '../helpers/stack.js';
import { call, v1 } from '../helpers/v1.js';

async function scrape(url: string): Promise<{ samples: Sample[]; type: string | null }> {
  const res = await fetch(url);
  return { samples: parse(await res.text()), type: res.headers.get('content-type') };
}

const stack = readStack();
const apis = stack.components.filter((c) => c.kind === 'api');
const consumers = stack.components.filter((c) => c.kind === 'consumer');

t.test("each api replica's /metrics counts its requests, batches and outcomes", async (t) => {
  const through = await scrape(`${baseUrl}/metrics`);
  t.match(through.type, /^text\/plain; version=0\.0\.4/, 'Prometheus text through NGINX');
  for (const api of apis) {
    const direct = `http://127.0.0.1:${api.port}`;
    const a = uniq('metrics');
    const before = (await scrape(`${direct}/metrics`)).samples;
    t.equal((await call('POST', `/v1/accounts/${a}/deposits`, { id: `${a}-d`, amount: 5 }, {}, direct)).status, 200);
    t.equal((await call('POST', `/v1/accounts/${a}/withdrawal-requests`, { id: `${a}-r`, amount: 50 }, {}, direct)).status, 402);
    t.equal((await call('GET', `/v1/accounts/${a}`, undefined, {}, direct)).status, 200);
    const after = (await scrape(`${direct}/metrics`)).samples;
    const delta = (name: string, where: Record<string, string>) => sum(after, name, where) - sum(before, name, where);
    t.ok(after.some((s) => s.labels.replica === api.name), `${api.name}: samples carry the replica label`);
    t.equal(delta('teller_http_request_duration_seconds_count', { route: '/v1/accounts/:accountId/deposits', status: '200', method: 'POST' }), 1, `${api.name}: a deposit counted by route template and status`);
    t.equal(delta('teller_http_request_duration_seconds_count', { route: '/v1/accounts/:accountId/withdrawal-requests', status: '402' }), 1, `${api.name}: a denial counted`);
    t.ok(delta('teller_http_request_duration_seconds_bucket', { route: '/v1/accounts/:accountId', le: '+Inf' }) >= 1, `${api.name}: latency histogram buckets`);
    t.ok(delta('teller_producer_batch_size_count', {}) >= 1, `${api.name}: producer batches observed`);
    t.ok(after.some((s) => s.name === 'teller_producer_queue_depth'), `${api.name}: producer queue depth`);
    t.equal(delta('teller_outcomes_total', { type: 'deposit', result: 'decided', status: 'applied' }), 1, `${api.name}: outcome by kind`);
    t.equal(delta('teller_outcomes_total', { type: 'withdraw_request', result: 'decided', status: 'denied' }), 1);
    t.notOk(after.some((s) => s.labels.route?.includes(a)), 'no raw URL as a label');
  }
});

t.test("each consumer's metrics port: lag and apply rate per owned partition, outcomes, overdrafts, dead letters", async (t) => {
  t.ok(consumers.length > 0 && consumers.every((c) => c.port), 'every consumer has a metrics port in stack.json');
  const scrapeAll = async () => Promise.all(consumers.map(async (c) => ({ c, samples: (await scrape(`http://127.0.0.1:${c.port}/metrics`)).samples })));

  let all = await scrapeAll();
  const owned = all.flatMap(({ samples }) => samples.filter((s) => s.name === 'teller_consumer_lag_messages').map((s) => Number(s.labels.partition)));
  t.same([...owned].sort((x, y) => x - y), Array.from({ length: config.partitions }, (_, i) => i), 'every partition is reported once, by its owner');
  for (const { c, samples } of all) {
    const ownedHere = samples.filter((s) => s.name === 'teller_consumer_lag_messages').length;
    t.equal(sum(samples, 'teller_consumer_partitions_owned'), ownedHere, `${c.name}: partitions owned (${ownedHere})`);
    // A member standing by (ACTIVE_CONSUMERS) has no partition to report a snapshot age for.
    if (ownedHere > 0) t.ok(samples.some((s) => s.name === 'teller_consumer_snapshot_age_seconds'), `${c.name}: snapshot age`);
    if (ownedHere > 0) t.equal(sum(samples, 'teller_consumer_partitions_warm'), 0, `${c.name}: an owner keeps nothing warm`);
    t.ok(samples.some((s) => s.name === 'teller_consumer_ticks_total'), `${c.name}: ticks`);
  }

  // An overdraft and a dead letter on one account's partition: its owner counts them.
  const a = uniq('metrics-od');
  const partition = partitionOf(a, config.partitions);
  const ownerOf = (x: typeof all) => x.find(({ samples }) => samples.some((s) => s.name === 'teller_consumer_lag_messages' && s.labels.partition === String(partition)))!;
  const before = ownerOf(all).samples;
  t.equal((await v1.withdraw(a, { id: `${a}-w`, amount: 7 })).status, 200);
  const kafka = new Kafka({ clientId: 'teller-metrics-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: config.topic, messages: [{ partition, key: a, value: '{"not": "a transaction"}' }] });
  await producer.disconnect();

  await waitFor(
    async () => {
      all = await scrapeAll();
      return sum(ownerOf(all).samples, 'teller_consumer_dead_letters_total', { partition: String(partition) }) > sum(before, 'teller_consumer_dead_letters_total', { partition: String(partition) });
    },
    { what: 'the dead letter counted', timeoutMs: 20_000 },
  );
  const after = ownerOf(all).samples;
  t.equal(sum(after, 'teller_consumer_overdrafts_total') - sum(before, 'teller_consumer_overdrafts_total'), 1, 'the overdraft is counted by the owner');
  t.ok(sum(after, 'teller_consumer_messages_applied_total', { partition: String(partition) }) > sum(before, 'teller_consumer_messages_applied_total', { partition: String(partition) }), 'applied messages per partition');
  t.ok(sum(after, 'teller_consumer_outcomes_total', { type: 'withdraw', status: 'applied' }) > sum(before, 'teller_consumer_outcomes_total', { type: 'withdraw', status: 'applied' }), 'outcomes by kind');
  t.ok(sum(after, 'teller_consumer_ledger_insert_documents_count') >= 1, 'ledger inserts observed');
  // The stack keeps ids for the default window (7 days): none is forgotten between the two scrapes.
  const remembered = (x: typeof before) => sum(x, 'teller_consumer_ids_remembered', { partition: String(partition) });
  t.ok(remembered(after) >= remembered(before) + 1, `the withdrawal's id is remembered (${remembered(before)} -> ${remembered(after)})`);
});

t.test('a consumer standing by keeps every partition warm, ready to take over', async (t) => {
  const active = config.activeConsumers === 0 ? consumers.length : Math.min(config.activeConsumers, consumers.length);
  // A deposit on every partition, so each has something to snapshot within an interval.
  for (let p = 0; p < config.partitions; p++) {
    let a = uniq('warm');
    while (partitionOf(a, config.partitions) !== p) a = uniq('warm');
    t.equal((await v1.deposit(a, { id: `${a}-d`, amount: 1 })).status, 200);
  }
  const standbys = async () => {
    const all = await Promise.all(consumers.map(async (c) => (await scrape(`http://127.0.0.1:${c.port}/metrics`)).samples));
    return all.filter((samples) => sum(samples, 'teller_consumer_partitions_owned') === 0);
  };
  t.equal((await standbys()).length, consumers.length - active, `${consumers.length - active} consumer(s) stand by`);
  await t.resolves(
    waitFor(async () => (await standbys()).every((samples) => sum(samples, 'teller_consumer_partitions_warm') === config.partitions), {
      what: `all ${config.partitions} partitions warm on every consumer standing by`,
      timeoutMs: 3 * config.snapshotIntervalMs + 30_000,
      intervalMs: 500,
    }),
    `every consumer standing by holds all ${config.partitions} partitions warm`,
  );
});

// The figures of `npm run top` from two scrapes (scripts/operations/top-figures.ts):
// rates over the interval, p99 by route across replicas, a restarted process
// counted from its start, one not reached, and every metric it reads declared
// by the metric modules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ApiMetrics } from '../../api/api-metrics.js';
import { ConsumerMetrics } from '../../consumer/consumer-metrics.js';
import { figures, type Scrape } from '../../scripts/operations/top-figures.js';
import { declaredSampleNames, parsePrometheus } from '../../scripts/shared/prometheus-text.js';
import { root } from '../../scripts/stack/paths.js';

function api(start: number, deposits: number, denied: number, fastCalls: number, slowCalls: number, failing = 0): string {
  return `process_start_time_seconds ${start}
process_resident_memory_bytes 83886080
nodejs_heap_size_used_bytes 31457280
teller_outcomes_total{type="deposit",result="decided",status="applied"} ${deposits}
teller_outcomes_total{type="withdraw_request",result="decided",status="denied"} ${denied}
teller_http_request_duration_seconds_bucket{le="0.01",method="POST",route="/v1/accounts/:accountId/deposits",status="200"} ${fastCalls}
teller_http_request_duration_seconds_bucket{le="0.1",method="POST",route="/v1/accounts/:accountId/deposits",status="200"} ${fastCalls + slowCalls}
teller_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/v1/accounts/:accountId/deposits",status="200"} ${fastCalls + slowCalls}
teller_http_request_duration_seconds_count{method="POST",route="/v1/accounts/:accountId/deposits",status="200"} ${fastCalls + slowCalls}
teller_producer_failing ${failing}
teller_producer_queue_depth 4
teller_calls_waiting 2
`;
}

function consumer(start: number, applied: number, replays: number, owned: number[], heartbeatAge: number): string {
  const lag = owned.map((p) => `teller_consumer_lag_messages{partition="${p}"} ${p}\nteller_consumer_ids_remembered{partition="${p}"} 1000`).join('\n');
  return `process_start_time_seconds ${start}
process_resident_memory_bytes 125829120
teller_consumer_outcomes_total{type="deposit",status="applied"} ${applied}
teller_consumer_replays_total ${replays}
teller_consumer_partitions_owned ${owned.length}
teller_consumer_partitions_warm ${owned.length === 0 ? 6 : 0}
teller_consumer_heartbeat_age_seconds ${heartbeatAge}
${lag}
`;
}

const scrape = (at: number, processes: Array<[string, 'api' | 'consumer', string | undefined]>): Scrape => ({
  at,
  processes: processes.map(([name, kind, text]) => (text === undefined ? { name, kind, error: 'connect ECONNREFUSED' } : { name, kind, samples: parsePrometheus(text) })),
});

const before = scrape(10_000, [
  ['api-1', 'api', api(100, 10, 2, 50, 0)],
  ['api-2', 'api', api(100, 0, 0, 0, 0)],
  ['consumer-1', 'consumer', consumer(100, 10, 0, [0, 1, 2], 0.5)],
  ['consumer-2', 'consumer', consumer(100, 0, 0, [], 1)],
]);
const after = scrape(12_000, [
  ['api-1', 'api', api(100, 30, 6, 148, 1)],
  ['api-2', 'api', api(100, 0, 0, 0, 1, 1)],
  ['consumer-1', 'consumer', consumer(100, 34, 2, [0, 1, 2], 0.2)],
  ['consumer-2', 'consumer', consumer(100, 0, 0, [], 9)],
]);

t.test('rates over the interval, summed over the replicas', async (t) => {
  const f = figures(before, after);
  t.equal(f.seconds, 2);
  t.strictSame(f.calls, [
    { label: 'decided applied', perSecond: 10 },
    { label: 'decided denied', perSecond: 2 },
  ]);
  t.strictSame(f.httpStatuses, [{ label: '200', perSecond: 50 }], '100 calls in 2 s');
  t.strictSame(f.decisions, [
    { label: 'applied', perSecond: 12 },
    { label: 'replayed', perSecond: 1 },
  ]);
  t.equal(f.consumers[0]!.decisionsPerSecond, 13);
  t.equal(f.consumers[1]!.decisionsPerSecond, 0);
});

t.test('p99 by route from the buckets of every replica together', async (t) => {
  const [route] = figures(before, after).routes;
  t.equal(route?.route, '/v1/accounts/:accountId/deposits');
  t.equal(route?.method, 'POST');
  t.equal(route?.perSecond, 50);
  // 100 calls: 98 within 10 ms on api-1, 2 between 10 and 100 ms (one on each replica): rank 99 is the first of those two.
  t.equal(route?.p99Seconds, 0.01 + (0.1 - 0.01) * ((99 - 98) / 2));
});

t.test('gauges: lag, ids, ownership, heartbeats, Kafka sends, memory', async (t) => {
  const f = figures(before, after);
  const [c1, c2] = f.consumers;
  t.match(c1, { name: 'consumer-1', owned: 3, warm: 0, lag: 3, idsRetained: 3000, heartbeatAgeSeconds: 0.2, rssBytes: 125829120 });
  t.match(c2, { name: 'consumer-2', owned: 0, warm: 6, lag: 0, idsRetained: 0, heartbeatAgeSeconds: 9 });
  t.equal(c2!.heapUsedBytes, undefined, 'a gauge the process does not show is unknown, not 0');
  t.equal(f.partitionsOwned, 3);
  t.match(f.apis, [
    { name: 'api-1', kafkaFailing: false, queued: 4, waiting: 2, rssBytes: 83886080, heapUsedBytes: 31457280 },
    { name: 'api-2', kafkaFailing: true },
  ]);
});

t.test('a first scrape alone: gauges, and no rate', async (t) => {
  const f = figures(undefined, after);
  t.equal(f.seconds, 0);
  t.strictSame([f.calls, f.httpStatuses, f.routes, f.decisions], [[], [], [], []]);
  t.equal(f.consumers[0]!.decisionsPerSecond, undefined);
  t.equal(f.consumers[0]!.lag, 3);
});

t.test('a process restarted between the scrapes counts from its start; one not reached has no figures', async (t) => {
  const restarted = scrape(12_000, [
    ['api-1', 'api', api(111, 4, 0, 4, 0)],
    ['api-2', 'api', undefined],
    ['consumer-1', 'consumer', consumer(100, 34, 2, [0, 1, 2], 0.2)],
  ]);
  const f = figures(before, restarted);
  t.strictSame(
    f.calls,
    [
      { label: 'decided applied', perSecond: 2 },
      { label: 'decided denied', perSecond: 0 },
    ],
    'api-1 decided 4 since it restarted, though its counter is below the one before',
  );
  t.equal(f.apis[1]!.unreachable, 'connect ECONNREFUSED');
  t.equal(f.apis[1]!.kafkaFailing, false);
  t.equal(f.consumers.length, 1, 'the processes of the current scrape');
  const later = scrape(14_000, [
    ['api-1', 'api', api(111, 10, 0, 10, 0)],
    ['api-2', 'api', api(100, 0, 0, 0, 5)],
  ]);
  t.strictSame(figures(restarted, later).httpStatuses, [{ label: '200', perSecond: 3 }], 'api-2 was not reached the scrape before: no rate of its own yet (api-1: 6 calls in 2 s)');
});

t.test('every metric the figures read is declared by the api or consumer metrics', async (t) => {
  const source = readFileSync(join(root, 'scripts', 'operations', 'top-figures.ts'), 'utf8');
  const read = new Set([...source.matchAll(/'((?:teller|process|nodejs)_[a-z0-9_]+)'/g)].map((m) => m[1]!));
  t.ok(read.size >= 12, `${read.size} metric names read`);
  const apiMetrics = new ApiMetrics({ replicaId: 'api-1', producer: () => ({ queued: 0, inFlight: 0, lastBatchSize: 0, failing: false, refused: {} }), waiting: () => 0 });
  const consumerMetrics = new ConsumerMetrics('consumer-1', () => []);
  const declared = new Set([...declaredSampleNames(await apiMetrics.registry.metrics()), ...declaredSampleNames(await consumerMetrics.registry.metrics())]);
  for (const name of read) t.ok(declared.has(name), name);
});

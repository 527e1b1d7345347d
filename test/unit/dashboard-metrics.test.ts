// Every metric the Grafana dashboard charts is one the api replicas or the
// consumers declare (api/api-metrics.ts, consumer/consumer-metrics.ts, and the
// process and Node.js metrics both collect): a renamed metric, or a typo in a
// query, would chart nothing without an error anywhere.
import t from 'tap';
import { ApiMetrics } from '../../api/api-metrics.js';
import { ConsumerMetrics } from '../../consumer/consumer-metrics.js';
import { chartedMetrics, dashboardQueries, panelsOf, readDashboard, unexposed } from '../../scripts/operations/monitoring/dashboard-queries.js';
import { declaredSampleNames } from '../../scripts/shared/prometheus-text.js';

const dashboard = readDashboard();
const charted = chartedMetrics(dashboard);

/** The sample names each metric module's registry declares, with no observation made. */
async function declaredByModules(): Promise<{ api: Set<string>; consumer: Set<string> }> {
  const api = new ApiMetrics({ replicaId: 'api-1', producer: () => ({ queued: 0, inFlight: 0, lastBatchSize: 0, failing: false, refused: {} }), waiting: () => 0 });
  const consumer = new ConsumerMetrics('consumer-1', () => []);
  return { api: declaredSampleNames(await api.registry.metrics()), consumer: declaredSampleNames(await consumer.registry.metrics()) };
}

t.test('the dashboard charts every figure operators watch', async (t) => {
  const required: Record<string, string> = {
    teller_outcomes_total: 'calls by outcome',
    teller_http_request_duration_seconds_count: 'requests by HTTP status',
    teller_http_request_duration_seconds_bucket: 'p99 by route',
    teller_consumer_lag_messages: 'consumer lag',
    teller_consumer_outcomes_total: 'decisions a second',
    process_resident_memory_bytes: 'resident memory',
    nodejs_heap_size_used_bytes: 'heap',
    teller_consumer_ids_remembered: 'ids in the id window',
    teller_consumer_heartbeat_age_seconds: "Kafka as a consumer sees it",
    teller_producer_failing: 'Kafka as a replica sees it',
  };
  for (const [metric, what] of Object.entries(required)) t.ok(charted.has(metric), `${what}: ${metric} is charted`);
});

t.test('every charted metric is declared by the api or the consumer metrics', async (t) => {
  const { api, consumer } = await declaredByModules();
  t.ok(charted.size >= 10, `${charted.size} metrics charted`);
  t.strictSame(unexposed(charted, new Set([...api, ...consumer])), [], 'no charted metric is missing');
  for (const [metric, panels] of charted) t.ok(api.has(metric) || consumer.has(metric), `${metric} (${panels.join('; ')})`);
  t.ok(api.has('teller_http_request_duration_seconds_bucket') && !api.has('teller_http_request_duration_seconds'), 'a histogram is exposed as its _bucket, _sum and _count');
});

t.test('a query charting an unknown metric is reported with its panel', async (t) => {
  const { api, consumer } = await declaredByModules();
  const broken = {
    panels: [
      { type: 'row', title: 'Row', panels: [{ title: 'Renamed', targets: [{ refId: 'A', expr: 'sum(rate(teller_consumer_lag_total[1m]))' }] }] },
      { title: 'Fine', targets: [{ refId: 'A', expr: 'max(teller_consumer_lag_messages)' }] },
    ],
  };
  t.strictSame(unexposed(chartedMetrics(broken), new Set([...api, ...consumer])), [{ metric: 'teller_consumer_lag_total', panels: ['Renamed'] }], 'found inside a row');
});

t.test('panels: unique ids, one datasource, a query each', async (t) => {
  const panels = panelsOf(dashboard);
  const ids = panels.map((p) => p.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const panel of panels.filter((p) => p.type !== 'row')) {
    t.equal(panel.datasource?.uid, 'teller-prometheus', `${panel.title}: the provisioned Prometheus`);
    t.ok((panel.targets ?? []).length > 0, `${panel.title}: has a query`);
  }
  t.ok(dashboardQueries(dashboard).every((q) => q.expr.trim() !== ''), 'no empty query');
});

// The metric names a PromQL expression reads (scripts/shared/promql-metric-names.ts):
// what the dashboard test compares with what the processes expose.
import t from 'tap';
import { metricNamesOf, tokenize } from '../../scripts/shared/promql-metric-names.js';

t.test('a bare metric, and one with label matchers', async (t) => {
  t.strictSame(metricNamesOf('teller_producer_failing'), ['teller_producer_failing']);
  t.strictSame(metricNamesOf('teller_outcomes_total{result="decided", status=~"applied|approved", type!="deposit"}'), ['teller_outcomes_total']);
  t.strictSame(metricNamesOf('job:teller_requests:rate5m'), ['job:teller_requests:rate5m'], 'a recording rule name with colons');
});

t.test('functions and aggregations are not metrics; their arguments are', async (t) => {
  t.strictSame(metricNamesOf('sum by (status) (rate(teller_http_request_duration_seconds_count[$__rate_interval]))'), ['teller_http_request_duration_seconds_count']);
  t.strictSame(
    metricNamesOf('histogram_quantile(0.99, sum by (le, route) (rate(teller_http_request_duration_seconds_bucket{method="POST"}[5m])))'),
    ['teller_http_request_duration_seconds_bucket'],
  );
  t.strictSame(metricNamesOf('sum(rate(teller_consumer_outcomes_total[1m])) without (consumer, instance)'), ['teller_consumer_outcomes_total'], 'the label list after the aggregation');
  t.strictSame(metricNamesOf('topk(5, max_over_time(teller_consumer_lag_messages[1h:1m]))'), ['teller_consumer_lag_messages'], 'a subquery range');
  t.strictSame(metricNamesOf('count_values("version", teller_build_info)'), ['teller_build_info'], 'a string argument');
  t.strictSame(
    metricNamesOf('label_replace(process_resident_memory_bytes, "process", "$1$2", "replica", "(.*)")'),
    ['process_resident_memory_bytes'],
    'strings holding $1 are not variables',
  );
});

t.test('binary operations, keywords, modifiers and numbers', async (t) => {
  t.strictSame(
    metricNamesOf('sum(rate(teller_consumer_outcomes_total[2m])) + sum(rate(teller_consumer_replays_total[2m] offset 5m))'),
    ['teller_consumer_outcomes_total', 'teller_consumer_replays_total'],
  );
  t.strictSame(
    metricNamesOf('nodejs_heap_size_used_bytes / on (instance) group_left (replica) nodejs_heap_size_total_bytes > bool 0.5'),
    ['nodejs_heap_size_used_bytes', 'nodejs_heap_size_total_bytes'],
  );
  t.strictSame(metricNamesOf('teller_producer_failing == 1 or teller_consumer_heartbeat_age_seconds > 6 unless teller_calls_waiting'), [
    'teller_producer_failing',
    'teller_consumer_heartbeat_age_seconds',
    'teller_calls_waiting',
  ]);
  t.strictSame(metricNamesOf('teller_consumer_lag_messages @ end() > Inf'), ['teller_consumer_lag_messages'], '@ end() and Inf');
  t.strictSame(metricNamesOf('SUM BY (partition) (teller_consumer_lag_messages)'), ['teller_consumer_lag_messages'], 'keywords in capitals');
  t.strictSame(metricNamesOf('vector(1)'), [], 'a function of a number reads no metric');
});

t.test('names given by matcher, repeated names once, comments and variables', async (t) => {
  t.strictSame(metricNamesOf('{__name__="teller_consumer_ticks_total", consumer="consumer-1"}'), ['teller_consumer_ticks_total']);
  t.strictSame(metricNamesOf('{__name__=~"teller_.*"}'), [], 'a regular expression names no one metric');
  t.strictSame(metricNamesOf('teller_calls_waiting - teller_calls_waiting offset 1m'), ['teller_calls_waiting']);
  t.strictSame(metricNamesOf('# memory\nprocess_resident_memory_bytes{replica=~"${replica:regex}"}'), ['process_resident_memory_bytes']);
  t.strictSame(metricNamesOf('rate(teller_consumer_ticks_total[$interval]) * [[scale]]'), ['teller_consumer_ticks_total'], "Grafana's older variable syntax");
});

t.test('the tokens, and what cannot be read', async (t) => {
  t.strictSame(
    tokenize('rate(x{a="b"}[5m])').map((token) => `${token.kind}:${token.text}`),
    ['identifier:rate', 'punctuation:(', 'identifier:x', 'punctuation:{', 'identifier:a', 'operator:=', 'string:"b"', 'punctuation:}', 'punctuation:[', 'number:5m', 'punctuation:]', 'punctuation:)'],
  );
  t.throws(() => metricNamesOf('sum(teller_calls_waiting'), /\( left open/, 'an unclosed parenthesis');
  t.throws(() => metricNamesOf('rate(teller_calls_waiting[1m)]'), /\) closes nothing open/, 'brackets crossed');
  t.throws(() => metricNamesOf('teller_calls_waiting ; 1'), /unexpected ";"/);
});

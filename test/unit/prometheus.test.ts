// Reading Prometheus text: samples with their labels, sums over a label subset.
import t from 'tap';
import { declaredFamilies, declaredSampleNames, parsePrometheus, sumOf } from '../../scripts/shared/prometheus-text.js';

const TEXT = `# HELP teller_consumer_lag_messages Messages behind
# TYPE teller_consumer_lag_messages gauge
teller_consumer_lag_messages{partition="0",consumer="consumer-1"} 3
teller_consumer_lag_messages{partition="1",consumer="consumer-1"} 4
teller_consumer_partitions_owned{consumer="consumer-1"} 2
teller_consumer_ticks_total 7
odd_label{detail="a \\"quoted\\" word"} 1.5

`;

t.test('samples, labels and values', async (t) => {
  const samples = parsePrometheus(TEXT);
  t.equal(samples.length, 5, 'comments and blank lines skipped');
  t.strictSame(samples[0], { name: 'teller_consumer_lag_messages', labels: { partition: '0', consumer: 'consumer-1' }, value: 3 });
  t.strictSame(samples[3], { name: 'teller_consumer_ticks_total', labels: {}, value: 7 });
  t.equal(samples[4]!.labels.detail, 'a \\"quoted\\" word', 'escaped quotes stay inside the label');
});

t.test('sums over the samples whose labels match', async (t) => {
  const samples = parsePrometheus(TEXT);
  t.equal(sumOf(samples, 'teller_consumer_lag_messages'), 7);
  t.equal(sumOf(samples, 'teller_consumer_lag_messages', { partition: '1' }), 4);
  t.equal(sumOf(samples, 'teller_consumer_lag_messages', { partition: '9' }), 0);
  t.equal(sumOf(samples, 'missing'), 0);
});

t.test('the families a text declares, samples or not, and the sample names each is exposed under', async (t) => {
  const text = `# HELP teller_http_request_duration_seconds Requests
# TYPE teller_http_request_duration_seconds histogram
# HELP teller_consumer_outcomes_total First decisions
# TYPE teller_consumer_outcomes_total counter
teller_consumer_outcomes_total{type="deposit",status="applied"} 2
# TYPE rpc_seconds summary
# TYPE teller_consumer_lag_messages gauge
`;
  t.strictSame(
    [...declaredFamilies(text)],
    [
      ['teller_http_request_duration_seconds', 'histogram'],
      ['teller_consumer_outcomes_total', 'counter'],
      ['rpc_seconds', 'summary'],
      ['teller_consumer_lag_messages', 'gauge'],
    ],
    'a histogram with no observation yet is declared all the same',
  );
  t.strictSame(
    [...declaredSampleNames(text)].sort(),
    [
      'rpc_seconds',
      'rpc_seconds_count',
      'rpc_seconds_sum',
      'teller_consumer_lag_messages',
      'teller_consumer_outcomes_total',
      'teller_http_request_duration_seconds_bucket',
      'teller_http_request_duration_seconds_count',
      'teller_http_request_duration_seconds_sum',
    ],
  );
  t.strictSame([...declaredFamilies(TEXT).keys()], ['teller_consumer_lag_messages'], 'only the families with a TYPE line: samples alone declare none');
});

// Reading Prometheus text: samples with their labels, sums over a label subset.
import t from 'tap';
import { parsePrometheus, sumOf } from '../../scripts/shared/prometheus-text.js';

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

// The id window's figures a consumer exports per partition it owns
// (consumer/consumer-metrics.ts): the ids its filter counts and the bytes of
// the filter's bits, as of the partition's last decided batch.
import t from 'tap';
import type { BatchDecision } from '../../consumer/batch-decision.js';
import { ConsumerMetrics } from '../../consumer/consumer-metrics.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { parsePrometheus, sumOf } from '../../scripts/shared/prometheus-text.js';
import { deposit } from '../helpers/tx.js';

const EMPTY_BATCH: BatchDecision = { docs: [], accounts: [], stored: [], announced: [], deadLetters: [], approvals: [], minted: [], applied: 0 } as unknown as BatchDecision;

t.test('ids and filter bytes per owned partition, from the last decided batch', async (t) => {
  let owned = [1, 4];
  const metrics = new ConsumerMetrics('consumer-1', () => owned);
  metrics.decided(1, EMPTY_BATCH, { lag: 0, remembered: 10, filterBytes: 2048 });
  metrics.decided(4, EMPTY_BATCH, { lag: 0, remembered: 3000, filterBytes: 6144 });
  let samples = parsePrometheus(await metrics.registry.metrics());
  t.equal(sumOf(samples, 'teller_consumer_id_filter_bytes', { partition: '1' }), 2048);
  t.equal(sumOf(samples, 'teller_consumer_id_filter_bytes', { partition: '4' }), 6144);
  t.equal(sumOf(samples, 'teller_consumer_ids_remembered', { partition: '4' }), 3000);
  owned = [4];
  samples = parsePrometheus(await metrics.registry.metrics());
  t.equal(sumOf(samples, 'teller_consumer_id_filter_bytes'), 6144, 'a partition no longer owned is not reported');
});

t.test("a partition's filter bytes: none before an id, the first sub-filter's after one, more as the ids outgrow it", async (t) => {
  const ledger = new PartitionLedger(0, 7 * 24 * 3600 * 1000);
  t.equal(ledger.filterBytes, 0, 'no id, no bits');
  ledger.apply(deposit('d0', 'acc', 1, { receivedAt: 1_000_000 }), 0, 1_000_000);
  const first = ledger.filterBytes;
  t.ok(first > 0, `one id: ${first} bytes`);
  for (let i = 1; i < 5000; i++) ledger.apply(deposit(`d${i}`, 'acc', 1, { receivedAt: 1_000_000 + i }), i, 1_000_000 + i);
  t.ok(ledger.filterBytes > first, `5,000 ids: ${ledger.filterBytes} bytes`);
  t.ok(ledger.filterBytes <= 5000 * 4, 'at most 4 bytes an id (16 bits, in sub-filters that double)');
});

// The consumer counts the ledger events the broker took (consumer/consumer-metrics.ts).
import t from 'tap';
import { ConsumerMetrics } from '../../consumer/consumer-metrics.js';

t.test('events published are counted, each send by its events', async (t) => {
  const metrics = new ConsumerMetrics('consumer-1', () => [0]);
  const counted = async () => (await metrics.registry.getSingleMetric('teller_consumer_events_published_total')!.get()).values[0]?.value;
  t.equal(await counted(), 0, 'none yet');
  metrics.eventsPublished(3);
  metrics.eventsPublished(2);
  t.equal(await counted(), 5);
  t.match(await metrics.registry.metrics(), /teller_consumer_events_published_total\{consumer="consumer-1"\} 5/);
});

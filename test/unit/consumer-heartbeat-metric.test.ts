// What a consumer can see of Kafka: the age of the group coordinator's last
// answer to it (consumer/consumer-metrics.ts, teller_consumer_heartbeat_age_seconds).
import t from 'tap';
import { ConsumerMetrics } from '../../consumer/consumer-metrics.js';

async function ageOf(metrics: ConsumerMetrics): Promise<number | undefined> {
  return (await metrics.registry.getSingleMetric('teller_consumer_heartbeat_age_seconds')!.get()).values[0]?.value;
}

t.test('the age counts from the process start until the first answer, then from each heartbeat or join', async (t) => {
  let now = 1_000_000;
  const metrics = new ConsumerMetrics('consumer-1', () => [], () => now);
  now += 4_500;
  t.equal(await ageOf(metrics), 4.5, 'no answer yet: seconds since the start');
  metrics.joined();
  now += 1_500;
  t.equal(await ageOf(metrics), 1.5, 'a join is an answer of the coordinator');
  metrics.heartbeat();
  t.equal(await ageOf(metrics), 0, 'a heartbeat taken now');
  now += 20_000;
  t.equal(await ageOf(metrics), 20, 'no heartbeat taken for 20 s: the age grows past any session timeout');
  t.match(await metrics.registry.metrics(), /teller_consumer_heartbeat_age_seconds\{consumer="consumer-1"\} 20\n/);
});

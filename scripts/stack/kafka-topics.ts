// The stack's topics: the transaction topic with the configured partition
// count and its dead-letter topic, created idempotently on every start (and by
// `npm run topics create`).
import type { Admin } from 'kafkajs';
import type { Config } from '../../common/config.js';
import { withAdmin } from '../shared/kafka-admin.js';

export interface TopicState {
  topic: string;
  partitions: number;
}

async function partitionCounts(admin: Admin, topics: string[]): Promise<TopicState[]> {
  const meta = await admin.fetchTopicMetadata({ topics });
  return meta.topics.map((t) => ({ topic: t.name, partitions: t.partitions.length }));
}

/**
 * Creates the transaction topic and its dead-letter topic; existing ones are
 * kept. An existing transaction topic with another partition count is an
 * error: the partition of an account is its key's hash modulo the count, so a
 * change would move accounts away from the owner that holds their state.
 */
export async function createTopics(config: Config, brokers: string[] = config.kafkaBrokers): Promise<TopicState[]> {
  return withAdmin(
    brokers,
    async (admin) => {
      const existing = new Set(await admin.listTopics());
      const wanted = [
        { topic: config.topic, numPartitions: config.partitions },
        { topic: config.dlqTopic, numPartitions: 1 },
      ];
      const missing = wanted.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) {
        await admin
          // One replica on the local single node; an external cluster's own default replication elsewhere (-1).
          .createTopics({ topics: missing.map((t) => ({ ...t, replicationFactor: config.kafkaExternal ? -1 : 1 })), waitForLeaders: true })
          .catch((err: { type?: string }) => {
            // Another process created it in the meantime: that is the state we wanted.
            if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
          });
      }
      const states = await partitionCounts(admin, [config.topic, config.dlqTopic]);
      const main = states.find((s) => s.topic === config.topic);
      if (main && main.partitions !== config.partitions) {
        throw new Error(
          `topic ${config.topic} has ${main.partitions} partitions but KAFKA_PARTITIONS=${config.partitions}; ` +
            'set KAFKA_PARTITIONS to match, or start from empty data (npm run reset) for another count',
        );
      }
      return states;
    },
    'teller-topics',
  );
}

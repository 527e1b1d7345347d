// Creates Teller's topics with the configured partition count, idempotently,
// and describes them. Also a command line:
//   node dist/scripts/operations/topics.js create | describe | add-partitions N [--force]
// (add-partitions refuses without --force: see scripts/operations/add-partitions.ts).
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { loadConfigOrExit, type Config } from '../../common/config.js';
import { ADD_PARTITIONS_WARNING, addPartitions } from './add-partitions.js';

export interface TopicState {
  topic: string;
  partitions: number;
}

async function withAdmin<T>(brokers: string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = new Kafka({ clientId: 'teller-topics', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10000 });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
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
  return withAdmin(brokers, async (admin) => {
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
  });
}

export async function describeTopics(config: Config, brokers: string[] = config.kafkaBrokers) {
  return withAdmin(brokers, async (admin) => {
    const meta = await admin.fetchTopicMetadata({ topics: [config.topic, config.dlqTopic] });
    const result = [];
    for (const t of meta.topics) {
      const offsets = await admin.fetchTopicOffsets(t.name);
      const messages = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
      result.push({ topic: t.name, partitions: t.partitions.length, messages, leaders: [...new Set(t.partitions.map((p) => p.leader))] });
    }
    return result;
  });
}

async function cli(command: string | undefined, args: string[]): Promise<void> {
  const config = loadConfigOrExit();
  if (command === 'create') console.log(JSON.stringify(await createTopics(config), null, 2));
  else if (command === 'describe') console.log(JSON.stringify(await describeTopics(config), null, 2));
  else if (command === 'add-partitions' && args[0] !== undefined) {
    const result = await addPartitions(config, Number(args[0]), args.includes('--force'));
    console.error(`WARNING: ${ADD_PARTITIONS_WARNING}`);
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.error('usage: node dist/scripts/operations/topics.js create | describe | add-partitions N [--force]');
    process.exit(2);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  cli(process.argv[2], process.argv.slice(3)).catch((err: Error) => {
    console.error(`topics: ${err.message}`);
    process.exit(1);
  });
}

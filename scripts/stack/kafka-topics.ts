// The stack's topics: the transaction topic with the configured partition
// count, its dead-letter topic and the events topic (docs/events.md), created
// idempotently on every start (and by `npm run topics create`). The transaction topic stamps its records with the
// broker's append time (`message.timestamp.type=LogAppendTime`): the one
// clock its partitions are judged by, once their owners have marked the
// switch in the log (consumer/clock-switch.ts, docs/ledger-rules.md).
import kafkajs, { type Admin, type ITopicConfig } from 'kafkajs';
import { localReplication, type Config } from '../../common/config.js';
import { LOG_APPEND_TIME, TIMESTAMP_TYPE } from '../../consumer/clock-switch.js';
import { withAdmin } from '../shared/kafka-admin.js';

// kafkajs is CommonJS, and Node finds only some of its exports by name.
const { ConfigResourceTypes, ConfigSource } = kafkajs;

export interface TopicState {
  topic: string;
  partitions: number;
}

async function partitionCounts(admin: Admin, topics: string[]): Promise<TopicState[]> {
  const meta = await admin.fetchTopicMetadata({ topics });
  return meta.topics.map((t) => ({ topic: t.name, partitions: t.partitions.length }));
}

/**
 * Sets the topic's timestamp type to LogAppendTime, unless it has it. Kafka's
 * AlterConfigs replaces every setting of the topic that the request leaves
 * out with the broker's default, so the topic's own settings go along with
 * it; a topic with a setting too sensitive to be read back is left alone.
 * Resolves to what stands in the way, or undefined once the topic has it.
 */
export async function appendWithLogAppendTime(admin: Pick<Admin, 'describeConfigs' | 'alterConfigs'>, topic: string): Promise<string | undefined> {
  const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  const entries = resources[0]?.configEntries ?? [];
  if (entries.some((e) => e.configName === TIMESTAMP_TYPE && e.configValue === LOG_APPEND_TIME)) return undefined;
  const own = entries.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && e.configName !== TIMESTAMP_TYPE);
  const unreadable = own.filter((e) => e.isSensitive || e.configValue === null);
  if (unreadable.length > 0) return `its settings ${unreadable.map((e) => e.configName).join(', ')} cannot be read back to keep them`;
  const configEntries = [...own.map((e) => ({ name: e.configName, value: e.configValue })), { name: TIMESTAMP_TYPE, value: LOG_APPEND_TIME }];
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries }] });
  return undefined;
}

/**
 * What keeps the topic from LogAppendTime, or undefined once it has it. A
 * retriable Kafka error is thrown, not reported: a node of a new cluster that
 * does not know the topic just created yet answers UNKNOWN_TOPIC_OR_PARTITION,
 * and start.ts tries the topics again until the nodes agree.
 */
export async function logAppendTimeRefusal(admin: Pick<Admin, 'describeConfigs' | 'alterConfigs'>, topic: string): Promise<string | undefined> {
  try {
    return await appendWithLogAppendTime(admin, topic);
  } catch (err) {
    if ((err as { retriable?: unknown }).retriable === true) throw err;
    return (err as Error).message;
  }
}

/** A topic as created: on the local Kafka replicated on up to three nodes, with writes acknowledged by two once there are three. */
function withReplication(config: Config, topic: ITopicConfig): ITopicConfig {
  if (config.kafkaExternal) return { ...topic, replicationFactor: -1 };
  const { replicationFactor, minInsyncReplicas } = localReplication(config.kafkaNodes);
  const configEntries = [...(topic.configEntries ?? []), { name: 'min.insync.replicas', value: String(minInsyncReplicas) }];
  return { ...topic, replicationFactor, configEntries };
}

/** The topics Teller uses: the events topic only while events are on. */
export function topicNames(config: Pick<Config, 'topic' | 'dlqTopic' | 'eventsEnabled' | 'eventsTopic'>): string[] {
  return [config.topic, config.dlqTopic, ...(config.eventsEnabled ? [config.eventsTopic] : [])];
}

/**
 * The events topic as created: the transaction topic's partition count (an
 * event goes to its account's partition by the same function), deleted by age.
 */
export function eventsTopicSpec(config: Pick<Config, 'eventsTopic' | 'partitions' | 'eventsRetentionMs'>) {
  return {
    topic: config.eventsTopic,
    numPartitions: config.partitions,
    configEntries: [
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'retention.ms', value: String(config.eventsRetentionMs) },
    ],
  };
}

/**
 * Creates the transaction topic, its dead-letter topic and the events topic;
 * existing ones are kept (an existing events topic keeps its own retention).
 * An existing transaction or events topic with another partition count is an
 * error: the partition of an account is its key's hash modulo the count, so a
 * change would move accounts away from the owner that holds their state, and
 * their events to partitions the consumers do not publish to.
 * The transaction topic is set to LogAppendTime, created so or altered: the
 * local broker must take it; an external cluster may refuse (its access
 * rules), which `warn` reports, and Teller then runs on the api's clocks.
 */
export async function createTopics(
  config: Config,
  brokers: string[] = config.kafkaBrokers,
  warn: (message: string) => void = (message) => process.stderr.write(`warning: ${message}\n`),
): Promise<TopicState[]> {
  return withAdmin(
    brokers,
    async (admin) => {
      const existing = new Set(await admin.listTopics());
      const wanted = [
        { topic: config.topic, numPartitions: config.partitions, configEntries: [{ name: TIMESTAMP_TYPE, value: LOG_APPEND_TIME }] },
        { topic: config.dlqTopic, numPartitions: 1 },
        ...(config.eventsEnabled ? [eventsTopicSpec(config)] : []),
      ];
      const missing = wanted.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) {
        await admin
          // The local nodes' replication (common/config.ts); an external cluster's own defaults elsewhere (-1).
          .createTopics({ topics: missing.map((t) => withReplication(config, t)), waitForLeaders: true })
          .catch((err: { type?: string }) => {
            // Another process created it in the meantime: that is the state we wanted.
            if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
          });
      }
      const states = await partitionCounts(admin, topicNames(config));
      for (const topic of [config.topic, ...(config.eventsEnabled ? [config.eventsTopic] : [])]) {
        const state = states.find((s) => s.topic === topic);
        if (state && state.partitions !== config.partitions) {
          throw new Error(
            `topic ${topic} has ${state.partitions} partitions but KAFKA_PARTITIONS=${config.partitions}; ` +
              'set KAFKA_PARTITIONS to match, or start from empty data (npm run reset) for another count',
          );
        }
      }
      const refused = await logAppendTimeRefusal(admin, config.topic);
      if (refused !== undefined) {
        const message = `could not set ${TIMESTAMP_TYPE}=${LOG_APPEND_TIME} on ${config.topic} (${refused})`;
        if (!config.kafkaExternal) throw new Error(message);
        warn(`${message}: partition clocks stay on the api replicas' receivedAt, so a replica whose clock jumps ahead moves them ahead for good (docs/ledger-rules.md#the-log-clock)`);
      }
      return states;
    },
    'teller-topics',
  );
}

// Adding partitions to the transaction topic, which Teller refuses unless
// forced. Kafka's own warning is that keyed messages change partitions; here it
// is worse: the producer places every message with partitionOf(accountId, count),
// so a new count moves most accounts to a partition whose owner holds none of
// their state (balance, holds, the ids already seen). Their next calls would be
// decided against an empty account, retries of old ids applied again, and the
// statements (ordered by partition offset) interleaved across partitions.
import type { Config } from '../../common/config.js';
import { partitionOf } from '../../common/message.js';
import { withAdmin } from '../shared/kafka-admin.js';

export const ADD_PARTITIONS_WARNING = [
  'Adding partitions moves accounts between partitions.',
  'Teller places every message with its own partitioner, partitionOf(accountId) = hash(accountId) mod partitions,',
  'and each partition owner holds the state of its accounts (balances, holds, ids already seen) in memory and in its snapshots.',
  'With more partitions most existing accounts hash to a new partition whose owner has none of their state:',
  'their balances would start again from 0 there, holds would be lost, retried ids applied twice, statements mixed up.',
  'Only do this on a topic that holds no account yet, or after moving the state yourself (Teller has no tool for that).',
  'Then set KAFKA_PARTITIONS to the new count for every api replica and consumer.',
].join('\n');

/** The share of `sample` accounts whose partition changes from `from` to `to` partitions. */
export function movedShare(from: number, to: number, sample = 10000): number {
  let moved = 0;
  for (let i = 0; i < sample; i++) if (partitionOf(`acct-${i}`, from) !== partitionOf(`acct-${i}`, to)) moved++;
  return moved / sample;
}

export async function addPartitions(config: Config, count: number, force: boolean): Promise<{ topic: string; from: number; to: number }> {
  return withAdmin(config.kafkaBrokers, async (admin) => {
    const meta = await admin.fetchTopicMetadata({ topics: [config.topic] });
    const from = meta.topics[0]?.partitions.length ?? 0;
    if (!Number.isSafeInteger(count) || count <= from) {
      throw new Error(`${config.topic} has ${from} partitions; the new count must be larger (Kafka cannot remove partitions)`);
    }
    const share = Math.round(movedShare(from, count) * 100);
    if (!force) {
      throw new Error(`refusing to add partitions to ${config.topic} (${from} -> ${count}): about ${share}% of accounts would move.\n${ADD_PARTITIONS_WARNING}\nPass --force to do it anyway.`);
    }
    // The events topic follows: an account's events go to partitionOf(accountId, KAFKA_PARTITIONS) there too.
    const topics = [config.topic, ...(config.eventsEnabled && (await admin.listTopics()).includes(config.eventsTopic) ? [config.eventsTopic] : [])];
    await admin.createPartitions({ topicPartitions: topics.map((topic) => ({ topic, count })) });
    return { topic: config.topic, from, to: count };
  });
}

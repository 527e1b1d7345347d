// The drain: a backlog of valid messages put on a fresh topic first, then
// the configured number of ledger consumers started on it and timed until the
// group's committed offsets reach the high watermarks. Nothing of the live
// stack is touched: the topic, the consumer group, the MongoDB database and
// the Redis logical database are the drain's own, and are removed afterwards.
import { join } from 'node:path';
import { Kafka, logLevel, type Admin, type Message } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../common/config.js';
import { partitionOf } from '../../common/message.js';
import type { TxMessage } from '../../common/types.js';
import { createTopics } from '../stack/kafka-topics.js';
import { NODE_FLAGS } from '../stack/app-components.js';
import type { Paths } from '../stack/paths.js';
import { Supervised } from '../stack/supervisor.js';
import { sleep } from '../shared/wait.js';
import { prng } from './contract-flow.js';
import { lagOf } from './lag-sampler.js';

export interface DrainNames {
  topic: string;
  groupId: string;
  mongoDb: string;
  /** The stack's Redis, another logical database (the live read model stays in its own). */
  redisUrl: string;
}

/** The drain's own events topic: the events of its backlog stay out of the live stack's. */
export function drainEventsTopic(names: Pick<DrainNames, 'topic'>): string {
  return `${names.topic}.events`;
}

export function drainNames(stamp: string, redisUrl: string, redisDb: number): DrainNames {
  const url = new URL(redisUrl);
  url.pathname = `/${redisDb}`;
  return {
    topic: `teller.bench.drain.${stamp}`,
    groupId: `teller-bench-drain-${stamp}`,
    mongoDb: `teller_drain_${stamp}`,
    redisUrl: url.toString(),
  };
}

/**
 * The i-th drain message: deposits and withdrawals (which always post) over
 * `accounts` accounts, in the schema of common/message.ts. Deterministic in
 * (seed, i) so a test can check a sample of them.
 */
export function drainMessage(stamp: string, i: number, accounts: number, receivedAt: number, rand: () => number): TxMessage {
  const accountId = `drain-${stamp}-${Math.floor(rand() * accounts)}`;
  const deposit = rand() < 0.5;
  const amount = deposit ? 1_000 + Math.floor(rand() * 19_001) : 500 + Math.floor(rand() * 9_501);
  return { v: 1, id: `d${stamp}-${i.toString(36)}`, type: deposit ? 'deposit' : 'withdraw', accountId, amount, receivedAt };
}

export interface ProduceProgress {
  (produced: number): void;
}

/** Puts `count` messages on the topic in sends of `batch`, a few sends in flight; returns the seconds it took. */
export async function produceBacklog(
  brokers: string[],
  topic: string,
  partitions: number,
  stamp: string,
  count: number,
  accounts: number,
  onProgress: ProduceProgress,
  batch = 10_000,
  inFlight = 3,
): Promise<number> {
  const kafka = new Kafka({ clientId: 'teller-bench-drain', brokers, logLevel: logLevel.NOTHING, requestTimeout: 60_000 });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = Date.now();
  const rand = prng(7);
  let next = 0;
  let produced = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      const to = Math.min(count, from + batch);
      next = to;
      const receivedAt = Date.now();
      const byPartition = new Map<number, Message[]>();
      for (let i = from; i < to; i++) {
        const m = drainMessage(stamp, i, accounts, receivedAt, rand);
        const p = partitionOf(m.accountId, partitions);
        let list = byPartition.get(p);
        if (!list) byPartition.set(p, (list = []));
        list.push({ key: m.accountId, value: JSON.stringify(m), partition: p });
      }
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: [...byPartition.values()].flat() }] });
      produced += to - from;
      onProgress(produced);
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, worker));
  } finally {
    await producer.disconnect();
  }
  return (Date.now() - started) / 1000;
}

export interface DrainConsumers {
  supervised: Supervised[];
  stop(): Promise<void>;
}

export function startDrainConsumers(config: Config, paths: Paths, names: DrainNames, runDir: string, log: Logger): DrainConsumers {
  const supervised = Array.from({ length: config.consumers }, (_, i) => {
    const name = `drain-consumer-${i + 1}`;
    const s = new Supervised(
      {
        name,
        command: process.execPath,
        args: [...NODE_FLAGS, join(paths.root, 'dist', 'consumer', 'main.js')],
        env: {
          KAFKA_BROKERS: config.kafkaBrokers.join(','),
          MONGODB_URI: config.mongoUri,
          REDIS_URL: names.redisUrl,
          MONGODB_DB: names.mongoDb,
          KAFKA_TOPIC: names.topic,
          EVENTS_TOPIC: drainEventsTopic(names),
          KAFKA_GROUP: names.groupId,
          CONSUMER_ID: name,
          CONSUMER_METRICS_PORT: '0',
          LOG_LEVEL: 'warn',
        },
        cwd: paths.root,
        logFile: join(runDir, `${name}.log`),
        pidFile: join(runDir, `${name}.pid`),
        stopTimeoutMs: 20_000,
        restart: false,
      },
      log,
    );
    s.start();
    return s;
  });
  return { supervised, stop: () => Promise.all(supervised.map((s) => s.stop())).then(() => undefined) };
}

/** Polls the group's lag until it is zero or the time is up; returns when it got there and when the first commit was seen. */
export async function waitDrained(
  admin: Admin,
  names: DrainNames,
  timeoutMs: number,
  onProgress: (lag: number) => void,
  abort: () => string | undefined,
): Promise<{ drained: boolean; at: number; firstCommitAt: number | undefined; peakLag: number; lag: number }> {
  const deadline = Date.now() + timeoutMs;
  let firstCommitAt: number | undefined;
  let peakLag = 0;
  for (;;) {
    const [high, committed] = await Promise.all([admin.fetchTopicOffsets(names.topic), admin.fetchOffsets({ groupId: names.groupId, topics: [names.topic] })]);
    const parts = committed[0]?.partitions ?? [];
    if (firstCommitAt === undefined && parts.some((p) => Number(p.offset) > 0)) firstCommitAt = Date.now();
    const { total } = lagOf(high, parts);
    peakLag = Math.max(peakLag, total);
    onProgress(total);
    if (total === 0) return { drained: true, at: Date.now(), firstCommitAt, peakLag, lag: 0 };
    const why = abort();
    if (why) throw new Error(`drain stopped: ${why}`);
    if (Date.now() > deadline) return { drained: false, at: Date.now(), firstCommitAt, peakLag, lag: total };
    await sleep(250);
  }
}

/** How often the drain's consumers had to rejoin their group (kafkajs logs each rejoin), from their logs. */
export function countRejoins(logText: string): number {
  return (logText.match(/re-joining/g) ?? []).length;
}

/** Removes what the drain created: its topics (the backlog's and its events'), its consumer group, its database, its Redis database. */
export async function cleanupDrain(config: Config, names: DrainNames): Promise<string[]> {
  const problems: string[] = [];
  const kafka = new Kafka({ clientId: 'teller-bench-drain-cleanup', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: [names.topic, drainEventsTopic(names)], timeout: 30_000 }).catch((e: Error) => problems.push(`delete topic: ${e.message}`));
    await admin.deleteGroups([names.groupId]).catch((e: Error) => problems.push(`delete group: ${e.message}`));
  } catch (e) {
    problems.push(`kafka: ${(e as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 5000 });
  try {
    await mongo.db(names.mongoDb).dropDatabase();
  } catch (e) {
    problems.push(`drop database: ${(e as Error).message}`);
  } finally {
    await mongo.close().catch(() => undefined);
  }
  const redis = new Redis(names.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.flushdb();
  } catch (e) {
    problems.push(`redis flushdb: ${(e as Error).message}`);
  } finally {
    redis.disconnect();
  }
  return problems;
}

/** Creates the drain's topic with the stack's partition count, as the stack's topics are created. */
export async function createDrainTopic(config: Config, names: DrainNames): Promise<void> {
  await createTopics({ ...config, topic: names.topic, eventsTopic: drainEventsTopic(names) });
}

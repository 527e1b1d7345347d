// `npm run dlq:redrive`: after a fix, sends dead-lettered messages back to the
// transaction topic. Each record of the dead-letter topic is validated again
// with the current schema (parseMessage); one that now passes is republished
// keyed and placed by its account (partitionOf), one still invalid is skipped
// and counted with its reason. Progress is the offsets of the consumer group
// `teller-dlq-redrive`, so a second run only sees what was dead-lettered since;
// `--from-beginning` goes over the whole topic again, `--dry-run` only counts.
//
// A redriven transaction is a new message with its original id, so the ledger's
// id check still holds: an id that was decided meanwhile gets its first outcome
// back and changes nothing. Its id is registered as the api registers the ids
// it takes (best effort), so GET /v1/transactions/:id finds it. Ticks are not
// redriven: a later tick supersedes them.
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import type { Consumer, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs';
import { loadConfigOrExit, type Config } from '../../common/config.js';
import { encodeMessage, isTransaction, parseMessage, partitionOf } from '../../common/message.js';
import { keys } from '../../common/read-model.js';
import { operatorKafka } from '../shared/kafka-admin.js';

export const REDRIVE_GROUP = 'teller-dlq-redrive';

export interface RedriveReport {
  read: number;
  redriven: number;
  skipped: number;
  /** Why records were skipped, with how many each. */
  reasons: Record<string, number>;
  dryRun: boolean;
}

export interface RedriveOptions {
  dryRun?: boolean;
  fromBeginning?: boolean;
  group?: string;
  /** Gives up when the topic's end is not reached by then. */
  timeoutMs?: number;
}

/** Where the run starts and ends: the group's committed offsets, up to what is in the topic now. */
async function rangeToRedrive(kafka: Kafka, config: Config, groupId: string, o: RedriveOptions): Promise<{ partitions: number; ends: Map<number, number> }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (o.fromBeginning) await admin.resetOffsets({ groupId, topic: config.dlqTopic, earliest: true }).catch(() => undefined);
    const meta = await admin.fetchTopicMetadata({ topics: [config.topic] });
    const partitions = meta.topics[0]?.partitions.length ?? config.partitions;
    const offsets = await admin.fetchTopicOffsets(config.dlqTopic);
    const committed = await admin.fetchOffsets({ groupId, topics: [config.dlqTopic] });
    const start = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    // Only what is in the topic now: records dead-lettered during the run wait for the next one.
    const ends = new Map(
      offsets.filter((p) => Number(p.high) > Math.max(Number(p.low), start.get(p.partition) ?? -1)).map((p) => [p.partition, Number(p.high)]),
    );
    return { partitions, ends };
  } finally {
    await admin.disconnect();
  }
}

/** A dead-lettered record as the message to republish, or why it is skipped. */
export function redriveRecord(value: Buffer | null, partitions: number, from: string): { message: Message } | { skipped: string } {
  const parsed = parseMessage(value);
  if (!parsed.ok) return { skipped: parsed.reason.replace(/^not JSON:.*$/s, 'not JSON') }; // JSON errors name a position: one reason
  if (parsed.msg.type === 'tick') return { skipped: 'a tick (later ticks supersede it)' };
  if (!isTransaction(parsed.msg)) return { skipped: 'a clock marker (the owner publishes another if its partition still needs one)' };
  // Nobody waits for it any more: no replica, and no call, to announce the outcome to.
  const { replyTo: _replyTo, callId: _callId, ...msg } = parsed.msg;
  const message = { key: msg.accountId, partition: partitionOf(msg.accountId, partitions), value: encodeMessage(msg), headers: { 'teller-redriven-from': from } };
  return { message };
}

interface RedriveClients {
  producer: Producer;
  redis: Redis;
  consumer: Consumer;
}

/** Registers the ids as the api does (best effort), then republishes the messages. */
async function republish(clients: RedriveClients, config: Config, messages: Message[]): Promise<void> {
  const registry = clients.redis.pipeline();
  for (const m of messages) {
    const { id, accountId } = JSON.parse(String(m.value)) as { id: string; accountId: string };
    registry.set(keys.txId(id), accountId, 'EX', config.outcomeTtlSeconds, 'NX');
  }
  await registry.exec().catch(() => undefined);
  await clients.producer.send({ topic: config.topic, acks: -1, messages });
}

/** Reads the dead-letter topic up to `ends`, republishing what now passes, and commits as it goes. */
function readToTheEnd(clients: RedriveClients, config: Config, range: { partitions: number; ends: Map<number, number> }, o: RedriveOptions, report: RedriveReport): Promise<void> {
  const { ends } = range;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the end of ${config.dlqTopic} was not reached in time`)), o.timeoutMs ?? 60_000);
    const eachBatch = async ({ batch, resolveOffset }: EachBatchPayload): Promise<void> => {
      const end = ends.get(batch.partition);
      if (end === undefined) return;
      const out: Message[] = [];
      let last: string | undefined;
      for (const record of batch.messages) {
        if (Number(record.offset) >= end) break;
        last = record.offset;
        report.read++;
        const redriven = redriveRecord(record.value, range.partitions, `${config.dlqTopic}/${batch.partition}/${record.offset}`);
        if ('message' in redriven) {
          out.push(redriven.message);
        } else {
          report.skipped++;
          report.reasons[redriven.skipped] = (report.reasons[redriven.skipped] ?? 0) + 1;
        }
      }
      if (!o.dryRun && out.length > 0) await republish(clients, config, out);
      report.redriven += out.length;
      if (last !== undefined) {
        resolveOffset(last);
        if (!o.dryRun) await clients.consumer.commitOffsets([{ topic: config.dlqTopic, partition: batch.partition, offset: String(Number(last) + 1) }]);
        if (Number(last) + 1 >= end) ends.delete(batch.partition);
      }
      if (ends.size === 0) {
        clearTimeout(timer);
        resolve();
      }
    };
    clients.consumer.run({ autoCommit: false, eachBatch }).catch(reject);
  });
}

export async function redrive(config: Config, o: RedriveOptions = {}): Promise<RedriveReport> {
  const kafka = operatorKafka(config.kafkaBrokers, 'teller-dlq-redrive');
  const groupId = o.group ?? REDRIVE_GROUP;
  const report: RedriveReport = { read: 0, redriven: 0, skipped: 0, reasons: {}, dryRun: o.dryRun === true };
  const range = await rangeToRedrive(kafka, config, groupId, o);
  if (range.ends.size === 0) return report;

  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  await redis.connect().catch(() => undefined);
  const clients: RedriveClients = { producer: kafka.producer({ idempotent: true, maxInFlightRequests: 1 }), redis, consumer: kafka.consumer({ groupId, maxWaitTimeInMs: 200 }) };
  await clients.producer.connect();
  await clients.consumer.connect();
  try {
    await clients.consumer.subscribe({ topic: config.dlqTopic, fromBeginning: true });
    await readToTheEnd(clients, config, range, o, report);
  } finally {
    await clients.consumer.disconnect();
    await clients.producer.disconnect();
    redis.disconnect();
  }
  return report;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const config = loadConfigOrExit();
  redrive(config, { dryRun: args.includes('--dry-run'), fromBeginning: args.includes('--from-beginning') })
    .then((r) => {
      console.log(JSON.stringify(r, null, 2));
      console.error(`${r.dryRun ? 'would redrive' : 'redriven'}: ${r.redriven} of ${r.read} read; skipped (still invalid): ${r.skipped}`);
    })
    .catch((err: Error) => {
      console.error(`dlq:redrive: ${err.message}`);
      process.exit(1);
    });
}

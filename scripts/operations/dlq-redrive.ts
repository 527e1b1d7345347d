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
import type { Consumer, Message } from 'kafkajs';
import { loadConfigOrExit, type Config } from '../../common/config.js';
import { encodeMessage, parseMessage, partitionOf } from '../../common/message.js';
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

export async function redrive(config: Config, o: RedriveOptions = {}): Promise<RedriveReport> {
  const kafka = operatorKafka(config.kafkaBrokers, 'teller-dlq-redrive');
  const groupId = o.group ?? REDRIVE_GROUP;
  const report: RedriveReport = { read: 0, redriven: 0, skipped: 0, reasons: {}, dryRun: o.dryRun === true };
  const admin = kafka.admin();
  await admin.connect();
  let partitions: number;
  let ends: Map<number, number>;
  try {
    if (o.fromBeginning) await admin.resetOffsets({ groupId, topic: config.dlqTopic, earliest: true }).catch(() => undefined);
    const meta = await admin.fetchTopicMetadata({ topics: [config.topic] });
    partitions = meta.topics[0]?.partitions.length ?? config.partitions;
    const offsets = await admin.fetchTopicOffsets(config.dlqTopic);
    const committed = await admin.fetchOffsets({ groupId, topics: [config.dlqTopic] });
    const start = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    // Only what is in the topic now: records dead-lettered during the run wait for the next one.
    ends = new Map(offsets.filter((p) => Number(p.high) > Math.max(Number(p.low), start.get(p.partition) ?? -1)).map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return report;

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  await redis.connect().catch(() => undefined);
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await producer.connect();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: config.dlqTopic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the end of ${config.dlqTopic} was not reached in time`)), o.timeoutMs ?? 60_000);
      const finish = () => {
        clearTimeout(timer);
        resolve();
      };
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            const end = ends.get(batch.partition);
            if (end === undefined) return;
            const out: Message[] = [];
            let last: string | undefined;
            for (const record of batch.messages) {
              if (Number(record.offset) >= end) break;
              last = record.offset;
              report.read++;
              const parsed = parseMessage(record.value);
              if (!parsed.ok || parsed.msg.type === 'tick') {
                // JSON parse errors name a position: grouped as one reason.
                const reason = parsed.ok ? 'a tick (later ticks supersede it)' : parsed.reason.replace(/^not JSON:.*$/s, 'not JSON');
                report.skipped++;
                report.reasons[reason] = (report.reasons[reason] ?? 0) + 1;
                continue;
              }
              // Nobody waits for it any more: no replica to announce the outcome to.
              const { replyTo: _, ...msg } = parsed.msg;
              out.push({
                key: msg.accountId,
                partition: partitionOf(msg.accountId, partitions),
                value: encodeMessage(msg),
                headers: { 'teller-redriven-from': `${config.dlqTopic}/${batch.partition}/${record.offset}` },
              });
            }
            if (!o.dryRun && out.length > 0) {
              const registry = redis.pipeline();
              for (const m of out) {
                const { id, accountId } = JSON.parse(String(m.value)) as { id: string; accountId: string };
                registry.set(keys.txId(id), accountId, 'EX', config.outcomeTtlSeconds, 'NX');
              }
              await registry.exec().catch(() => undefined);
              await producer.send({ topic: config.topic, acks: -1, messages: out });
            }
            report.redriven += out.length;
            if (last !== undefined) {
              resolveOffset(last);
              if (!o.dryRun) await consumer.commitOffsets([{ topic: config.dlqTopic, partition: batch.partition, offset: String(Number(last) + 1) }]);
              if (Number(last) + 1 >= end) ends.delete(batch.partition);
            }
            if (ends.size === 0) finish();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
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

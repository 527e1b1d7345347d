// npm run audit: checks the invariants of docs/ledger-rules.md against the ledger,
// the read model and the topic, then replays every partition's log through the
// pure ledger rules and compares the result with MongoDB document by document.
// Exits non-zero on any violation, naming the offending ids.
//
//   node dist/scripts/operations/audit.js [--acked FILE] [--json FILE]
// --acked: JSON lines {id, accountId} of calls a client saw acknowledged.
import { readFileSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { readConfig, type Config } from '../../common/config.js';
import { parseMessage } from '../../common/message.js';
import { keys } from '../../common/read-model.js';
import type { LedgerDoc } from '../../common/types.js';
import { PartitionLedger } from '../../consumer/partition.js';
import {
  checkAcknowledged,
  checkInvariants,
  checkReadModel,
  compareWithReplay,
  newestStates,
  type AccountState,
  type Violation,
} from './audit-checks.js';

export interface AuditReport {
  ok: boolean;
  documents: number;
  accounts: number;
  messages: number;
  violations: Violation[];
  seconds: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Waits until the consumers have committed everything on the topic, so the ledger is not moving. */
async function waitQuiescent(admin: Admin, config: Config, timeoutMs: number): Promise<Map<number, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const high = await admin.fetchTopicOffsets(config.topic);
    const committed = await admin.fetchOffsets({ groupId: config.groupId, topics: [config.topic] });
    const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
    const behind = high.filter((h) => (done.get(h.partition) ?? 0) < Number(h.high) && Number(h.high) > 0);
    if (behind.length === 0) return new Map(high.map((h) => [h.partition, Number(h.high)]));
    if (Date.now() > deadline) throw new Error(`consumers still behind on partitions ${behind.map((b) => b.partition).join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Replays each partition from offset 0 to `high` through the ledger rules. */
async function replay(kafka: Kafka, config: Config, high: Map<number, number>): Promise<{ docs: LedgerDoc[]; messages: number }> {
  const ledgers = new Map<number, PartitionLedger>();
  const docs: LedgerDoc[] = [];
  let messages = 0;
  const remaining = new Set([...high].filter(([, h]) => h > 0).map(([p]) => p));
  if (remaining.size === 0) return { docs, messages };
  const consumer = kafka.consumer({ groupId: `teller-audit-${process.pid}-${Date.now()}`, maxBytesPerPartition: 8 * 1024 * 1024 });
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  await consumer.connect();
  await consumer.subscribe({ topic: config.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const p = batch.partition;
      const end = high.get(p) ?? 0;
      let ledger = ledgers.get(p);
      if (!ledger) ledgers.set(p, (ledger = new PartitionLedger(p, config.idWindowSeconds * 1000)));
      for (const m of batch.messages) {
        const offset = Number(m.offset);
        if (offset >= end) break;
        messages++;
        const parsed = parseMessage(m.value);
        if (parsed.ok) for (const d of ledger.apply(parsed.msg, offset).docs) docs.push(d);
      }
      if (Number(batch.lastOffset()) + 1 >= end && remaining.delete(p) && remaining.size === 0) finished();
    },
  });
  await done;
  await consumer.disconnect();
  return { docs, messages };
}

async function readModelStates(redis: Redis, accounts: string[]): Promise<Map<string, AccountState | undefined>> {
  const out = new Map<string, AccountState | undefined>();
  for (let i = 0; i < accounts.length; i += 1000) {
    const slice = accounts.slice(i, i + 1000);
    const pipeline = redis.pipeline();
    for (const a of slice) pipeline.hmget(keys.account(a), 'b', 'r');
    const results = (await pipeline.exec()) ?? [];
    slice.forEach((a, j) => {
      const [err, value] = results[j] ?? [];
      const [b, r] = (value as (string | null)[] | undefined) ?? [];
      out.set(a, err || b === null || b === undefined ? undefined : { balance: Number(b), reserved: Number(r ?? 0) });
    });
  }
  return out;
}

export async function audit(config: Config, ackedFile?: string): Promise<AuditReport> {
  const started = Date.now();
  const kafka = new Kafka({ clientId: 'teller-audit', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 5000 });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  redis.on('error', () => undefined); // surfaced by the commands that fail
  try {
    await redis.connect();
    await admin.connect();
    const high = await waitQuiescent(admin, config, 120_000);
    const docs = await mongo.db(config.mongoDb).collection<LedgerDoc>('transactions').find({}).toArray();
    const violations = checkInvariants(docs, config.idWindowSeconds * 1000);
    if (ackedFile) {
      const acked = readFileSync(ackedFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; accountId: string });
      violations.push(...checkAcknowledged(docs, acked));
    }
    const states = newestStates(docs);
    violations.push(...checkReadModel(states, await readModelStates(redis, [...states.keys()])));
    const replayed = await replay(kafka, config, high);
    violations.push(...compareWithReplay(docs, replayed.docs));
    return {
      ok: violations.length === 0,
      documents: docs.length,
      accounts: states.size,
      messages: replayed.messages,
      violations,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await Promise.allSettled([admin.disconnect(), mongo.close(), redis.quit()]);
  }
}

const isMain = process.argv[1]?.endsWith('audit.js');
if (isMain) {
  const report = await audit(readConfig(), arg('--acked')).catch((err: Error) => {
    console.error(`audit could not run: ${err.message}`);
    process.exit(2);
  });
  const json = arg('--json');
  if (json) writeFileSync(json, JSON.stringify(report, null, 2));
  console.log(`audit: ${report.documents} ledger documents, ${report.accounts} accounts, ${report.messages} messages replayed in ${report.seconds.toFixed(1)} s`);
  for (const v of report.violations) {
    const shown = v.ids.slice(0, 20).join(', ');
    console.log(`VIOLATION ${v.check}: ${v.detail}${shown ? ` [${shown}${v.ids.length > 20 ? ', ...' : ''}]` : ''}`);
  }
  console.log(report.ok ? 'audit passed: every invariant holds and the ledger equals the replay' : `audit FAILED: ${report.violations.length} violations`);
  process.exit(report.ok ? 0 : 1);
}

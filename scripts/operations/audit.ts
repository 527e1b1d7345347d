// npm run audit: checks the invariants of docs/ledger-rules.md against the ledger,
// the read model and the topic, then replays every partition's log through the
// pure ledger rules and compares the result with MongoDB document by document.
// Everything is compared at one cut of offsets (scripts/operations/audit-cut.ts),
// so ticks and traffic during the audit cannot make a correct system look wrong.
// Exits non-zero on any violation, naming the offending ids.
//
//   node dist/scripts/operations/audit.js [--acked FILE] [--json FILE]
//   node dist/scripts/operations/audit.js --rules MODULE [--json FILE]
// --acked: JSON lines {id, accountId} of calls a client saw acknowledged.
// --rules: instead, the shadow replay of the log through another module's
// rules (scripts/operations/shadow-audit.ts, docs/explanations.md).
import { readFileSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { readConfig, type Config } from '../../common/config.js';
import { parseMessage } from '../../common/message.js';
import { ACCOUNT_FIELDS, keys } from '../../common/read-model.js';
import type { LedgerDoc } from '../../common/types.js';
import { recordTimestamp } from '../../consumer/batch-decision.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { auditLedger, checkAcknowledged, compareWithReplay, type LedgerTotals, type Violation } from './audit-checks.js';
import { printShadowReport, shadowAudit } from './shadow-audit.js';
import { accountsChangedAfterCut, beforeCut, checkReadModel, newestStates, readModelState, takeCut, type Cut, type ReadModelState } from './audit-cut.js';

export interface AuditReport {
  ok: boolean;
  /** Ledger documents before the cut: the ones checked. */
  documents: number;
  accounts: number;
  messages: number;
  violations: Violation[];
  seconds: number;
  /** Per partition, the offset the audit compared at. */
  cut: Record<string, number>;
  /** The ledger's exact totals at the cut, in minor units (decimal strings: they may pass 2^53). */
  totals: Record<keyof LedgerTotals, string>;
  /** Accounts whose read model had already moved past the cut when Redis was read: not compared. */
  changedAfterCut: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Replays each partition from offset 0 up to the cut through the ledger rules. */
async function replay(kafka: Kafka, config: Config, cut: Cut): Promise<{ docs: LedgerDoc[]; messages: number }> {
  const ledgers = new Map<number, PartitionLedger>();
  const docs: LedgerDoc[] = [];
  let messages = 0;
  const remaining = new Set([...cut].filter(([, end]) => end > 0).map(([p]) => p));
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
      const end = cut.get(p) ?? 0;
      let ledger = ledgers.get(p);
      if (!ledger) ledgers.set(p, (ledger = new PartitionLedger(p, config.idWindowSeconds * 1000)));
      for (const m of batch.messages) {
        const offset = Number(m.offset);
        if (offset >= end) break;
        messages++;
        const parsed = parseMessage(m.value);
        // The record's timestamp too: once a partition's clock is the broker's, it is what moves it.
        if (parsed.ok) for (const d of ledger.apply(parsed.msg, offset, recordTimestamp(m)).docs) docs.push(d);
      }
      if (Number(batch.lastOffset()) + 1 >= end && remaining.delete(p) && remaining.size === 0) finished();
    },
  });
  await done;
  await consumer.disconnect();
  return { docs, messages };
}

/** Each account's hash: balance, reserved and the offset of the change last written to it. */
async function readModelStates(redis: Redis, accounts: string[]): Promise<Map<string, ReadModelState | undefined>> {
  const out = new Map<string, ReadModelState | undefined>();
  for (let i = 0; i < accounts.length; i += 1000) {
    const slice = accounts.slice(i, i + 1000);
    const pipeline = redis.pipeline();
    for (const a of slice) pipeline.hmget(keys.account(a), ACCOUNT_FIELDS.balance, ACCOUNT_FIELDS.reserved, ACCOUNT_FIELDS.offset);
    const results = (await pipeline.exec()) ?? [];
    slice.forEach((a, j) => {
      const [err, value] = results[j] ?? [];
      out.set(a, err ? undefined : readModelState((value as (string | null)[] | undefined) ?? []));
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
    const cut = await takeCut(admin, config, 120_000);
    const read = await mongo.db(config.mongoDb).collection<LedgerDoc>('transactions').find({}).toArray();
    const docs = beforeCut(read, cut);
    const { violations, totals } = auditLedger(docs, config.idWindowSeconds * 1000);
    if (ackedFile) {
      const acked = readFileSync(ackedFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; accountId: string });
      violations.push(...checkAcknowledged(docs, acked));
    }
    const states = newestStates(docs);
    const readModel = await readModelStates(redis, [...states.keys()]);
    violations.push(...checkReadModel(states, readModel, cut));
    const replayed = await replay(kafka, config, cut);
    violations.push(...compareWithReplay(docs, replayed.docs));
    return {
      ok: violations.length === 0,
      documents: docs.length,
      accounts: states.size,
      messages: replayed.messages,
      violations,
      seconds: (Date.now() - started) / 1000,
      cut: Object.fromEntries([...cut].map(([partition, offset]) => [String(partition), offset])),
      totals: {
        deposited: String(totals.deposited),
        withdrawn: String(totals.withdrawn),
        balances: String(totals.balances),
        reserved: String(totals.reserved),
        held: String(totals.held),
        inFlight: String(totals.inFlight),
        reversedDeposits: String(totals.reversedDeposits),
        reversedWithdrawals: String(totals.reversedWithdrawals),
      },
      changedAfterCut: accountsChangedAfterCut(states, readModel, cut).length,
    };
  } finally {
    await Promise.allSettled([admin.disconnect(), mongo.close(), redis.quit()]);
  }
}

const isMain = process.argv[1]?.endsWith('audit.js');
const rules = arg('--rules');
if (isMain && rules !== undefined) {
  const report = await shadowAudit(readConfig(), rules).catch((err: Error) => {
    console.error(`shadow replay could not run: ${err.message}`);
    process.exit(2);
  });
  process.exit(printShadowReport(report, arg('--json')));
}
if (isMain) {
  const report = await audit(readConfig(), arg('--acked')).catch((err: Error) => {
    console.error(`audit could not run: ${err.message}`);
    process.exit(2);
  });
  const json = arg('--json');
  if (json) writeFileSync(json, JSON.stringify(report, null, 2));
  console.log(`audit: ${report.documents} ledger documents, ${report.accounts} accounts, ${report.messages} messages replayed in ${report.seconds.toFixed(1)} s`);
  const { deposited, withdrawn, balances, reserved, held, inFlight, reversedDeposits, reversedWithdrawals } = report.totals;
  console.log(
    `at the cut: deposits ${deposited} - withdrawals ${withdrawn} - reversed deposits ${reversedDeposits} + reversed withdrawals ${reversedWithdrawals}, balances ${balances}, transfers in flight ${inFlight}; reserved ${reserved}, held ${held}`,
  );
  if (report.changedAfterCut > 0) console.log(`${report.changedAfterCut} accounts changed after the cut: Redis already shows a later state, not compared`);
  for (const v of report.violations) {
    const shown = v.ids.slice(0, 20).join(', ');
    console.log(`VIOLATION ${v.check}: ${v.detail}${shown ? ` [${shown}${v.ids.length > 20 ? ', ...' : ''}]` : ''}`);
  }
  console.log(report.ok ? 'audit passed: every invariant holds and the ledger equals the replay' : `audit FAILED: ${report.violations.length} violations`);
  process.exit(report.ok ? 0 : 1);
}

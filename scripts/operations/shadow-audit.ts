// `npm run audit -- --rules <module> [--json FILE]`: the shadow replay
// (scripts/operations/shadow-replay.ts, docs/explanations.md) against the
// running system. It takes the audit's cut (every partition's committed
// offset, once the consumers have committed all the topic held), reads the
// ledger's documents before it, replays each partition's retained log through
// the module's rules, and prints every document they would have written
// otherwise. Exit status: 0 when every partition was replayed and nothing
// differs, 1 when something differs, 2 when it could not run, 3 when nothing
// differs but some partition could not be replayed (no starting point the log
// reaches back to).
import { writeFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import type { Config } from '../../common/config.js';
import type { LedgerDoc } from '../../common/types.js';
import { lookUp } from '../../consumer/id-lookup.js';
import { LogRangeReader } from '../../consumer/log-range.js';
import { SnapshotStore } from '../../consumer/snapshots.js';
import { beforeCut, takeCut } from './audit-cut.js';
import { shadowReplay, type DocumentFigures, type ShadowReport } from './shadow-replay.js';
import { loadRules } from './shadow-rules.js';

export interface ShadowAuditReport extends ShadowReport {
  rules: string;
  seconds: number;
}

export async function shadowAudit(config: Config, rulesPath: string): Promise<ShadowAuditReport> {
  const started = Date.now();
  const rules = await loadRules(rulesPath);
  const kafka = new Kafka({ clientId: 'teller-audit-shadow', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 5000 });
  const reader = new LogRangeReader(kafka, config.topic, 'teller-audit-shadow');
  try {
    await admin.connect();
    const cut = await takeCut(admin, config, 120_000);
    const db = mongo.db(config.mongoDb);
    const ledger = db.collection<LedgerDoc>('transactions');
    const recorded = beforeCut(await ledger.find({}).toArray(), cut);
    const idWindowMs = config.idWindowSeconds * 1000;
    const snapshots = new SnapshotStore(db, config.snapshotKeep, idWindowMs);
    const report = await shadowReplay(cut, rules, recorded, {
      bounds: () => reader.bounds(),
      oldestSnapshotFrom: (partition, offset) => snapshots.loadOldestFrom(partition, offset),
      read: (ranges, take) => reader.read(ranges, take),
      lookUp: (partition, keys) => lookUp(ledger, partition, keys),
      idWindowMs,
    });
    return { ...report, rules: rulesPath, seconds: (Date.now() - started) / 1000 };
  } finally {
    await Promise.allSettled([reader.close(), admin.disconnect(), mongo.close()]);
  }
}

function shown(f: DocumentFigures | undefined): string {
  if (!f) return 'none';
  return `${f.type} ${f.status}${f.reason ? ` (${f.reason})` : ''} amount ${f.amount} balance ${f.balanceAfter} reserved ${f.reservedAfter}${f.overdraft ? ' overdraft' : ''}`;
}

/** Prints the report (and writes it as JSON to `jsonFile`); returns the exit status. */
export function printShadowReport(report: ShadowAuditReport, jsonFile?: string): number {
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(report, null, 2));
  console.log(`shadow replay through ${report.rules}: ${report.records} records replayed, ${report.documents} ledger documents compared in ${report.seconds.toFixed(1)} s`);
  for (const p of report.partitions) {
    if (p.from === undefined) console.log(`partition ${p.partition}: NOT REPLAYED, no snapshot kept that the log reaches back to (cut ${p.to})`);
    else console.log(`partition ${p.partition}: offsets ${p.from} to ${p.to}, from ${p.start === 'snapshot' ? `the snapshot at ${p.from}` : "the log's start"}`);
  }
  for (const d of report.differences) {
    console.log(`DIFFERS ${d.id} on ${d.accountId} (${d._id}): ledger ${shown(d.recorded)}; shadow ${shown(d.shadow)}${d.fields.length ? ` [${d.fields.join(', ')}]` : ''}`);
  }
  const skipped = report.partitions.filter((p) => p.from === undefined).length;
  if (report.differences.length > 0) {
    console.log(`shadow replay: ${report.differences.length} documents differ`);
    return 1;
  }
  console.log(skipped > 0 ? `shadow replay: no document differs, but ${skipped} partitions were not replayed` : 'shadow replay: no document differs');
  return skipped > 0 ? 3 : 0;
}

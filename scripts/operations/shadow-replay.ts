// The shadow replay of `npm run audit -- --rules <module>` (docs/explanations.md,
// Shadow replay): every partition's retained log, from the oldest point a
// replay can start at up to the audit's cut, decided again through the
// partition's own path with other per-account rules, and every ledger document
// those rules would have written otherwise reported. What reads Kafka and the
// database is handed in (scripts/operations/shadow-audit.ts), so the replay and
// its comparison run on an in-memory log in tests.
import type { LedgerDoc } from '../../common/types.js';
import type { RawRecord } from '../../consumer/batch-decision.js';
import { documentDifferences } from '../../consumer/document-diff.js';
import type { LogBounds, OffsetRange } from '../../consumer/log-range.js';
import type { LedgerRules } from '../../consumer/partition-rules.js';
import { PartitionReplay, startOffset, type IdLookup, type ReplayStart } from '../../consumer/replay.js';
import type { PartitionSnapshot } from '../../consumer/partition.js';
import type { Cut } from './audit-cut.js';

/** A ledger document's figures, as a difference shows them. */
export interface DocumentFigures {
  type: LedgerDoc['type'];
  status: LedgerDoc['status'];
  reason?: LedgerDoc['reason'];
  amount: number;
  balanceAfter: number;
  reservedAfter: number;
  overdraft?: boolean;
}

/** A document the shadow rules write otherwise than the ledger holds it, or write where it holds none, or not where it holds one. */
export interface ShadowDifference {
  _id: string;
  id: string;
  accountId: string;
  partition: number;
  offset: number;
  /** The ledger's; absent when the shadow wrote a document the ledger does not hold. */
  recorded?: DocumentFigures;
  /** The shadow's; absent when the ledger holds a document the shadow did not write. */
  shadow?: DocumentFigures;
  /** The members that differ (consumer/document-diff.ts); empty when one side has no document. */
  fields: string[];
}

export interface ShadowReport {
  /** Per partition: where its replay started and the cut it went up to; `from` absent when no starting point reaches back into the log. */
  partitions: { partition: number; from?: number; to: number; start?: 'log-start' | 'snapshot' }[];
  records: number;
  /** Ledger documents compared (those of the records replayed). */
  documents: number;
  differences: ShadowDifference[];
}

export interface ShadowSources {
  /** Each partition's first and end offsets. */
  bounds(): Promise<Map<number, LogBounds>>;
  /** The oldest complete snapshot at or after an offset (consumer/snapshots.ts). */
  oldestSnapshotFrom(partition: number, offset: number): Promise<PartitionSnapshot | undefined>;
  /** Reads the ranges, handing on their records in offset order (consumer/log-range.ts). */
  read(ranges: readonly OffsetRange[], take: (partition: number, records: RawRecord[]) => Promise<void>): Promise<void>;
  lookUp: IdLookup;
  idWindowMs: number;
}

/**
 * Where a replay of all `partition` still holds may start: the empty state
 * while the log holds its first record, else the oldest snapshot kept that
 * the log reaches back to; undefined when there is none.
 */
export async function shadowStart(partition: number, bounds: LogBounds, sources: Pick<ShadowSources, 'oldestSnapshotFrom'>): Promise<ReplayStart | undefined> {
  if (bounds.first === 0) return { partition };
  const snapshot = await sources.oldestSnapshotFrom(partition, bounds.first);
  return snapshot && { partition, snapshot };
}

/** Replays every partition of `cut` through `rules`, comparing what they write with `recorded`, the ledger's documents before the cut. */
export async function shadowReplay(cut: Cut, rules: LedgerRules, recorded: readonly LedgerDoc[], sources: ShadowSources): Promise<ShadowReport> {
  const report: ShadowReport = { partitions: [], records: 0, documents: 0, differences: [] };
  const ledger = new Map(recorded.map((doc) => [doc._id, doc]));
  const bounds = await sources.bounds();
  const replays = new Map<number, PartitionReplay>();
  const ranges: OffsetRange[] = [];
  for (const [partition, to] of [...cut].sort(([a], [b]) => a - b)) {
    const start = await shadowStart(partition, bounds.get(partition) ?? { first: 0, end: 0 }, sources);
    if (!start) {
      report.partitions.push({ partition, to });
      continue;
    }
    const from = startOffset(start);
    report.partitions.push({ partition, from, to, start: start.snapshot ? 'snapshot' : 'log-start' });
    replays.set(partition, new PartitionReplay(start, sources.idWindowMs, sources.lookUp, { rules }));
    ranges.push({ partition, from, to });
  }
  await sources.read(ranges, async (partition, records) => {
    for (const decision of await replays.get(partition)!.replay(records, 0)) {
      for (const doc of decision.docs) compareDocument(report, ledger, doc);
    }
    report.records += records.length;
  });
  // What the ledger holds of the records replayed and the shadow never wrote.
  for (const { partition, from, to } of ranges) {
    for (const doc of ledger.values()) if (doc.partition === partition && doc.offset >= from && doc.offset < to) report.differences.push(difference(doc, undefined));
  }
  report.differences.sort((a, b) => a.partition - b.partition || a.offset - b.offset || (a._id < b._id ? -1 : 1));
  return report;
}

/** Compares a document the shadow wrote with the ledger's of the same `_id`, which leaves `ledger` once compared. */
function compareDocument(report: ShadowReport, ledger: Map<string, LedgerDoc>, shadow: LedgerDoc): void {
  const recorded = ledger.get(shadow._id);
  ledger.delete(shadow._id);
  if (recorded) report.documents++;
  const fields = recorded ? documentDifferences(recorded, shadow) : [];
  if (!recorded || fields.length > 0) report.differences.push({ ...difference(recorded, shadow), fields });
}

function difference(recorded: LedgerDoc | undefined, shadow: LedgerDoc | undefined): ShadowDifference {
  const doc = (recorded ?? shadow)!;
  const out: ShadowDifference = { _id: doc._id, id: doc.id, accountId: doc.accountId, partition: doc.partition, offset: doc.offset, fields: [] };
  if (recorded) out.recorded = figures(recorded);
  if (shadow) out.shadow = figures(shadow);
  return out;
}

function figures(doc: LedgerDoc): DocumentFigures {
  const out: DocumentFigures = { type: doc.type, status: doc.status, amount: doc.amount, balanceAfter: doc.balanceAfter, reservedAfter: doc.reservedAfter };
  if (doc.reason !== undefined) out.reason = doc.reason;
  if (doc.overdraft) out.overdraft = true;
  return out;
}

// Drives a PartitionLedger as the batch path does, with its ledger documents
// kept in an in-memory database that a restored partition reads from.
import { PartitionLedger, type PartitionSnapshot, type Step } from '../../consumer/partition.js';
import type { LogMessage } from '../../common/types.js';
import { MemoryLedger } from './memory-ledger.js';

export const DAY = 86_400_000;

/** Each partition's ledger documents, as the database holds them: a restored partition reads those it came from. */
const databases = new WeakMap<PartitionLedger, MemoryLedger>();

export function databaseOf(p: PartitionLedger): MemoryLedger {
  let db = databases.get(p);
  if (!db) databases.set(p, (db = new MemoryLedger()));
  return db;
}

/** Applies one message as the batch path does (looking up what memory let go of), and inserts its documents. */
export function apply(p: PartitionLedger, msg: LogMessage, offset: number): Step {
  return databaseOf(p).apply(p, msg, offset);
}

/** `PartitionLedger.restore`, reading the ledger documents `from` wrote. */
export function restore(from: PartitionLedger, s: PartitionSnapshot, windowMs: number): PartitionLedger {
  const restored = PartitionLedger.restore(s, windowMs);
  databases.set(restored, databaseOf(from));
  return restored;
}

/** Applies messages at consecutive offsets from `from`. */
export function run(p: PartitionLedger, msgs: LogMessage[], from = 0): Step[] {
  return msgs.map((m, i) => apply(p, m, from + i));
}

/** The state a snapshot holds, as it would be stored (JSON round trip). */
export function state(p: PartitionLedger, offset = 0): PartitionSnapshot {
  return JSON.parse(JSON.stringify(p.snapshot(offset))) as PartitionSnapshot;
}


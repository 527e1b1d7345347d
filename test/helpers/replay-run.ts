// What the replay property tests (test/unit/replay.property.test.ts and
// test/unit/replay-restore.property.test.ts) share: the partition, the id
// windows they try, and the uninterrupted run every other run is held to.
import fc from 'fast-check';
import { PartitionLedger, type PartitionSnapshot, type Step } from '../../consumer/partition.js';
import { applyRecord, type LogRecord } from './replay-log.js';

export const PARTITION = 7;
/** An id window no log reaches the end of. */
export const FOREVER = 1e12;
export const RUNS = Number(process.env.REPLAY_RUNS ?? 300);
export const windowArb = fc.constantFrom(FOREVER, 300, 1_000, 5_000);

/** `value` as it comes back from being stored as JSON. */
export const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The log decided in one go, all in memory, from an empty state: its steps and final state. */
export function runAll(log: LogRecord[], windowMs: number): { steps: Step[]; final: PartitionSnapshot } {
  const p = new PartitionLedger(PARTITION, windowMs);
  const steps = log.map((r, i) => applyRecord(p, r, i));
  return { steps, final: json(p.snapshot(log.length)) };
}

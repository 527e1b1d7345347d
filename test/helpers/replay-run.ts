// What the replay property tests (test/unit/replay.property.test.ts and
// test/unit/replay-restore.property.test.ts) share: the partition, the id
// windows they try, and the uninterrupted run every other run is held to.
import fc from 'fast-check';
import { PartitionLedger, type PartitionSnapshot, type Step } from '../../consumer/partition.js';
import { applyRecord, type LogRecord } from './replay-log.js';
import type { TxMessage } from '../../common/types.js';

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

/**
 * The log with the legs its transfers mint fed back into it, as their owners
 * publish them: each minted message a few records after the one that minted it
 * (after the log's end when that is nearer), stamped by the broker as the
 * record before it; now and then twice in a row, as an owner that crashed
 * before its commit publishes it again. Decided in one go, all in memory;
 * every later run of the returned log mints the same messages. A transfer's
 * credit is now and then reversed a few records after it (in part or whole),
 * as its account's client would, and the reversal's own credit back is fed in
 * as any leg.
 */
export function withLegs(log: LogRecord[], windowMs: number): LogRecord[] {
  const full = [...log];
  const p = new PartitionLedger(PARTITION, windowMs);
  for (let offset = 0; offset < full.length; offset++) {
    const step = applyRecord(p, full[offset]!, offset);
    for (const minted of step.minted) {
      const at = Math.min(full.length, offset + 1 + (minted.amount! % 4));
      const record = { msg: minted, timestamp: full[at - 1]!.timestamp };
      full.splice(at, 0, ...(minted.amount! % 5 === 0 ? [record, record] : [record]));
      const reversal = reversalOf(minted, offset);
      if (reversal) full.splice(Math.min(full.length, at + 1 + (offset % 3)), 0, { msg: reversal, timestamp: record.timestamp });
    }
  }
  return full;
}

/** A client's reversal of a transfer's credit, for one credit in three (not of a reversal's own credit back); else undefined. */
function reversalOf(minted: TxMessage, offset: number): TxMessage | undefined {
  if (minted.type !== 'transfer_credit' || minted.transferId!.startsWith('rv') || minted.amount! % 3 !== 0) return undefined;
  const reversal: TxMessage = { v: 1, id: `rv${offset}`, type: 'reversal', accountId: minted.accountId, requestId: minted.id, receivedAt: minted.receivedAt };
  if (minted.amount! % 2 === 1) reversal.amount = Math.ceil(minted.amount! / 2);
  return reversal;
}

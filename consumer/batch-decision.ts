// Deciding a whole partition batch in memory: parse each record, apply it to
// the partition's state machine, and gather what the edges must write. No I/O:
// what the batch needs from the ledger (`lookupsFor`) is read before, by the
// batch path, and handed in.
import { parseMessage, type ParseResult } from '../common/message.js';
import type { AccountWrite, Announcement } from '../common/read-model.js';
import type { LedgerDoc, LogMessage, Outcome } from '../common/types.js';
import type { DurableIds, PartitionLedger } from './partition.js';

export interface RawRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, unknown>;
}

export interface DeadLetter {
  record: RawRecord;
  reason: string;
}

/** A record with its message parsed (or the reason it does not parse). */
export interface ParsedRecord {
  record: RawRecord;
  parsed: ParseResult;
}

export function parseRecords(records: RawRecord[]): ParsedRecord[] {
  return records.map((record) => ({ record, parsed: parseMessage(record.value) }));
}

/** The ids the batch may need from the ledger (`PartitionLedger.lookupsFor`). */
export function lookupsOf(ledger: PartitionLedger, batch: ParsedRecord[]): Set<string> {
  const messages: LogMessage[] = [];
  for (const { parsed } of batch) if (parsed.ok) messages.push(parsed.msg);
  return ledger.lookupsFor(messages);
}

export interface BatchDecision {
  docs: LedgerDoc[];
  accounts: AccountWrite[];
  /** First decisions and changed ones, kept for status lookups. */
  stored: Outcome[];
  announced: Announcement[];
  deadLetters: DeadLetter[];
  applied: number;
}

/**
 * Records before `writtenBefore` were decided, written and committed by an
 * earlier owner: they are applied to the state only, with nothing to write.
 * `durable`: what the ledger holds of the ids `lookupsOf` named for the batch.
 */
export function decideBatch(ledger: PartitionLedger, batch: ParsedRecord[], writtenBefore: number, durable: DurableIds): BatchDecision {
  const out: BatchDecision = { docs: [], accounts: [], stored: [], announced: [], deadLetters: [], applied: 0 };
  const lastChange = new Map<string, number>();
  for (const { record, parsed } of batch) {
    const offset = Number(record.offset);
    if (offset < writtenBefore) {
      if (parsed.ok) ledger.apply(parsed.msg, offset, durable);
      continue;
    }
    if (!parsed.ok) {
      out.deadLetters.push({ record, reason: parsed.reason });
      continue;
    }
    const step = ledger.apply(parsed.msg, offset, durable);
    out.applied++;
    for (const d of step.docs) out.docs.push(d);
    for (const a of step.touched) lastChange.set(a, offset);
    for (const o of step.changed) out.stored.push(o);
    if (step.outcome) {
      if (!step.outcome.replayed && step.outcome.status !== 'conflict') out.stored.push(step.outcome);
      if (parsed.msg.type !== 'tick') out.announced.push({ outcome: step.outcome, replyTo: parsed.msg.replyTo, callId: parsed.msg.callId });
    }
  }
  for (const [accountId, offset] of lastChange) {
    out.accounts.push({ accountId, offset, account: ledger.account(accountId)! });
  }
  return out;
}

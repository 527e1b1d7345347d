// Deciding a whole partition batch in memory: parse each record, apply it to
// the partition's state machine, and gather what the edges must write. No I/O:
// what the batch needs from the ledger (`lookupsFor`) is read before, by the
// batch path, and handed in.
import { isTransaction, parseMessage, type ParseResult } from '../common/message.js';
import type { AccountWrite, Announcement } from '../common/read-model.js';
import type { LedgerDoc, Outcome, TxMessage } from '../common/types.js';
import type { LoggedMessage, PartitionLedger } from './partition.js';
import type { DurableIds } from './remembered-ids.js';

export interface RawRecord {
  offset: string;
  /**
   * The record's timestamp, ms since the epoch as kafkajs gives it (a string):
   * on a topic that appends with LogAppendTime, the broker's append time.
   */
  timestamp?: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, unknown>;
}

export interface DeadLetter {
  record: RawRecord;
  reason: string;
}

/** A record with its message parsed (or the reason it does not parse) and its timestamp read. */
export interface ParsedRecord {
  record: RawRecord;
  parsed: ParseResult;
  timestamp: number | undefined;
}

export function parseRecords(records: RawRecord[]): ParsedRecord[] {
  return records.map((record) => ({ record, parsed: parseMessage(record.value), timestamp: recordTimestamp(record) }));
}

/** The ids the batch may need from the ledger (`PartitionLedger.lookupsFor`). */
export function lookupsOf(ledger: PartitionLedger, batch: ParsedRecord[]): Set<string> {
  const records: LoggedMessage[] = [];
  for (const { parsed, timestamp } of batch) if (parsed.ok) records.push({ msg: parsed.msg, timestamp });
  return ledger.lookupsFor(records);
}

/** A withdrawal request this batch approved, with the deadline its caller was answered by. */
export interface Approval {
  accountId: string;
  id: string;
  answerBy: number;
}

export interface BatchDecision {
  docs: LedgerDoc[];
  accounts: AccountWrite[];
  /** First decisions and changed ones, kept for status lookups. */
  stored: Outcome[];
  announced: Announcement[];
  deadLetters: DeadLetter[];
  /** Approvals of requests that carry `answerBy` (consumer/late-cancel.ts). */
  approvals: Approval[];
  /**
   * Messages the batch's decisions minted (a transfer's next leg), in log
   * order: to publish before the batch's offset is committed. Those of records
   * before `writtenBefore` were published by the owner that wrote them.
   */
  minted: TxMessage[];
  applied: number;
}

/**
 * Records before `writtenBefore` were decided, written and committed by an
 * earlier owner: they are applied to the state only, with nothing to write.
 * `durable`: what the ledger holds of the ids `lookupsOf` named for the batch.
 */
export function decideBatch(ledger: PartitionLedger, batch: ParsedRecord[], writtenBefore: number, durable: DurableIds): BatchDecision {
  const out: BatchDecision = { docs: [], accounts: [], stored: [], announced: [], deadLetters: [], approvals: [], minted: [], applied: 0 };
  const lastChange = new Map<string, number>();
  for (const { record, parsed, timestamp } of batch) {
    const offset = Number(record.offset);
    if (offset < writtenBefore) {
      if (parsed.ok) ledger.apply(parsed.msg, offset, timestamp, durable);
      continue;
    }
    if (!parsed.ok) {
      out.deadLetters.push({ record, reason: parsed.reason });
      continue;
    }
    const step = ledger.apply(parsed.msg, offset, timestamp, durable);
    out.applied++;
    for (const d of step.docs) out.docs.push(d);
    for (const a of step.touched) lastChange.set(a, offset);
    for (const o of step.changed) out.stored.push(o);
    for (const m of step.minted) out.minted.push(m);
    if (step.outcome) {
      if (!step.outcome.replayed && step.outcome.status !== 'conflict') out.stored.push(step.outcome);
      const { msg } = parsed;
      if (msg.type === 'withdraw_request' && msg.answerBy !== undefined && step.outcome.status === 'approved' && !step.outcome.replayed) {
        out.approvals.push({ accountId: msg.accountId, id: msg.id, answerBy: msg.answerBy });
      }
      if (isTransaction(parsed.msg)) out.announced.push({ outcome: step.outcome, replyTo: parsed.msg.replyTo, callId: parsed.msg.callId });
    }
  }
  for (const [accountId, offset] of lastChange) {
    out.accounts.push({ accountId, offset, account: ledger.account(accountId)! });
  }
  return out;
}

/** A record's timestamp as a number; undefined when it has none, or one that is not an integer. */
export function recordTimestamp(record: Pick<RawRecord, 'timestamp'>): number | undefined {
  const { timestamp } = record;
  if (timestamp === undefined || !/^-?\d{1,16}$/.test(timestamp)) return undefined;
  const ms = Number(timestamp);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

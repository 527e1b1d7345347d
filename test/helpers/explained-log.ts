// A partition log with a record for every row of the outcome tables
// (docs/ledger-rules.md, docs/transfers.md), decided once as an owner decides
// it (a batch a record, memory letting go of what the ledger holds, so later
// repeats are read back from it), for the tests of explanations and shadow
// replays (test/unit/explanation.test.ts, test/unit/shadow-replay.test.ts).
// Kept: each record as Kafka gives it, each offset's outcome and documents,
// and the state before each offset as a stored snapshot holds it.
import { encodeMessage, partitionOf } from '../../common/message.js';
import type { LedgerDoc, LogMessage, Outcome, TxMessage } from '../../common/types.js';
import { decideBatch, lookupsOf, parseRecords, type RawRecord } from '../../consumer/batch-decision.js';
import { PartitionLedger, type PartitionSnapshot } from '../../consumer/partition.js';
import type { IdLookup } from '../../consumer/replay.js';
import { MemoryLedger } from './memory-ledger.js';
import { cancel, deposit, pendingTransfer, request, reversal, settings, tick, transfer, transferCredit, transferPost, transferReturn, transferVoid, withdraw } from './tx.js';

/** Of a topic of PARTITIONS partitions, the partition of account `a` (and so of the log: the api finds a repeat's record by its account). */
export const PARTITIONS = 6;
export const PARTITION = partitionOf('a', PARTITIONS);
export const WINDOW_MS = 7 * 86_400_000;
/** The log clock of the record at `offset`: every record a second after the one before. */
export const clockAt = (offset: number) => 1_000_000 + offset * 1000;
/** A hold that lapses only when settled. */
const NEVER = 1e13;
const MAX = Number.MAX_SAFE_INTEGER;

const at = <T extends LogMessage>(msg: T, offset: number): T => ({ ...msg, receivedAt: clockAt(offset) });
const held = (msg: TxMessage): TxMessage => ({ ...msg, expiresAt: NEVER, expiresInSeconds: 3600, holdLimit: 5 });

/** The scenario, a name for each record (the rule it is decided by, or what it is for). */
const SCENARIO: [string, (offset: number) => LogMessage][] = [
  ['deposit', () => deposit('d1', 'a', 100)],
  ['request-approved', () => held(request('r1', 'a', 60))],
  ['request-insufficient-funds', () => held(request('r2', 'a', 60))],
  ['request-hold-limit', () => ({ ...held(request('r3', 'a', 10)), holdLimit: 1 })],
  ['withdrawal-settles-hold', () => withdraw('w1', 'a', 10, { requestId: 'r1' })],
  ['withdrawal-request-not-held', () => withdraw('w2', 'a', 20, { requestId: 'r-none' })],
  ['request-approved r4', () => held(request('r4', 'a', 30))],
  ['withdrawal-consumes-holds', () => withdraw('w3', 'a', 100)],
  ['deposit d2', () => deposit('d2', 'a', 200)],
  ['request-approved r5', () => held(request('r5', 'a', 20))],
  ['repeat before the cancel', () => held(request('r5', 'a', 20))],
  ['cancel-releases-hold', () => cancel('c1', 'a', 'r5')],
  ['cancel-not-held', () => cancel('c2', 'a', 'r5')],
  ['repeat', () => deposit('d1', 'a', 100, { replyTo: 'api-1', callId: 'again.1' })],
  ['id-reused', () => deposit('d1', 'a', 101)],
  // Lapses at the tick after it, by its `expiresAt` (the partition is on `receivedAt`).
  ['request-approved r6', (offset) => ({ ...held(request('r6', 'a', 25)), expiresAt: clockAt(offset + 1) })],
  ['hold-lapsed', () => tick(0)],
  ['transfer-debit', () => transfer('t1', 'a', 'b', 50)],
  ['transfer-credit', () => transferCredit('t1', 'a', 'b', 50, clockAt(offsetOf('transfer-debit')))],
  ['settings-applied frozen', () => settings('s1', 'a', { accountStatus: 'frozen' })],
  ['debit-account-frozen', () => held(request('r7', 'a', 10))],
  ['settings-account-not-empty', () => settings('s2', 'a', { accountStatus: 'closed' })],
  ['reversal-applied', () => reversal('v1', 'a', 'd2', 50)],
  ['settings-applied closed', () => settings('s3', 'c', { accountStatus: 'closed' })],
  ['debit-account-closed', () => held(request('r8', 'c', 10))],
  ['credit-account-closed', () => deposit('d3', 'c', 10)],
  ['transfer-return', () => transferReturn('t9', 'a', 'c', 10, clockAt(3))],
  ['pending-transfer-held', () => pendingTransfer('p1', 'b', 'a', 20, { expiresAt: NEVER })],
  ['post-applied', () => transferPost('post1', 'b', 'p1', 10)],
  ['void-not-held', () => transferVoid('void1', 'b', 'p1')],
  ['transfer-credit of the post', () => transferCredit('p1', 'b', 'a', 10, clockAt(offsetOf('post-applied')))],
  // At the edge of what is counted exactly.
  ['deposit up to the edge', () => deposit('m1', 'm', MAX)],
  ['deposit-out-of-range', () => deposit('m2', 'm', 1)],
  ['transfer-credit-out-of-range', () => transferCredit('t8', 'a', 'm', 1, clockAt(2))],
  ['withdrawal-consumes-holds from the edge', () => withdraw('m3', 'm', 1)],
  ['deposit to the edge again', () => deposit('m4', 'm', 1)],
  ['reversal-out-of-range', () => reversal('m5', 'm', 'm3')],
  ['withdrawal-consumes-holds down to the edge', () => withdraw('n1', 'n', MAX)],
  ['withdrawal-out-of-range', () => withdraw('n2', 'n', 1)],
  // What is left of the transfers and the reversals.
  ['transfer-debit-insufficient-funds', () => transfer('t2', 'b', 'a', 1000)],
  ['pending-transfer-insufficient-funds', () => pendingTransfer('p2', 'b', 'a', 1000, { expiresAt: NEVER })],
  ['pending-transfer-held p3', () => pendingTransfer('p3', 'b', 'a', 5, { expiresAt: NEVER })],
  ['post-exceeds-pending', () => transferPost('post2', 'b', 'p3', 6)],
  ['void-applied', () => transferVoid('void2', 'b', 'p3')],
  ['post-not-held', () => transferPost('post3', 'b', 'p3')],
  ['reversal-original-not-found', () => reversal('v3', 'b', 'nothing')],
  ['reversal-not-reversible', () => reversal('v4', 'b', 'p1')],
  ['reversal-exceeds-original', () => reversal('v5', 'a', 'd2', 500)],
];

/** The rules no record of the scenario reaches: a post past the exact range needs a hold on a balance near -(2^53 - 1), which no approval leaves. */
export const RULES_NOT_REACHED = ['post-out-of-range'];

export const NAMES = SCENARIO.map(([name]) => name);

/** The offset of the record named `name`. */
export function offsetOf(name: string): number {
  const offset = NAMES.indexOf(name);
  if (offset < 0) throw new Error(`no record named ${name}`);
  return offset;
}

/** A record as kafkajs gives it, stamped `timestamp` by the broker. */
export function rawRecord(msg: LogMessage, offset: number, timestamp = clockAt(offset)): RawRecord {
  const key = 'accountId' in msg ? Buffer.from(msg.accountId) : null;
  return { offset: String(offset), timestamp: String(timestamp), key, value: encodeMessage(msg) };
}

export interface LiveRun {
  records: RawRecord[];
  /** The outcome each record was answered with (none for a tick). */
  outcomes: (Outcome | undefined)[];
  /** The documents each record wrote. */
  documents: LedgerDoc[][];
  /** The state before each offset, as stored (JSON). */
  before: PartitionSnapshot[];
  db: MemoryLedger;
  /** The ledger's answers to a replay's lookups. */
  lookUp: IdLookup;
}

/** The scenario's messages, each at its own log time. */
export function scenarioMessages(): LogMessage[] {
  return SCENARIO.map(([, build], offset) => at(build(offset), offset));
}

/**
 * Decides `messages` a batch a record, as an owner does, inserting each
 * batch's documents before the next; each record stamped as `timestamps`
 * says (by default, its log time in the scenario).
 */
export function runLive(messages: LogMessage[] = scenarioMessages(), windowMs = WINDOW_MS, timestamps: number[] = messages.map((_, offset) => clockAt(offset))): LiveRun {
  const db = new MemoryLedger();
  const p = new PartitionLedger(PARTITION, windowMs);
  const run: LiveRun = { records: [], outcomes: [], documents: [], before: [], db, lookUp: async (partition, keys) => db.lookUp(partition, keys) };
  messages.forEach((msg, offset) => {
    run.before.push(JSON.parse(JSON.stringify(p.snapshot(offset))) as PartitionSnapshot);
    p.durableBefore(offset);
    const record = rawRecord(msg, offset, timestamps[offset]);
    const parsed = parseRecords([record]);
    const decision = decideBatch(p, parsed, 0, db.lookUp(PARTITION, lookupsOf(p, parsed)));
    db.insert(decision.docs);
    run.records.push(record);
    run.outcomes.push(decision.announced[0]?.outcome);
    run.documents.push(decision.docs);
  });
  return run;
}

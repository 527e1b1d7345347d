// Deciding a log as the consumer does, for the replay property test: in
// batches, each looked up in a database (an in-memory ledger) before it is
// decided, whose inserts finish some batches later, so that a repeat finds its
// first decision sometimes still in memory, sometimes only in the database,
// sometimes in both (an insert under way), and memory lets go of a decision
// only at the start of a batch after its insert finished.
import fc from 'fast-check';
import type { PartitionLedger, Step } from '../../consumer/partition.js';
import type { DurableIds } from '../../consumer/remembered-ids.js';
import type { LedgerDoc } from '../../common/types.js';
import { MemoryLedger } from './memory-ledger.js';
import type { LogRecord } from './replay-log.js';

export interface Schedule {
  /** Sizes of the batches, in turn. */
  sizes: number[];
  /** How many batches later each batch's insert finishes (0: before the next one starts), in turn. */
  delays: number[];
  /** Whether the oldest insert under way has put half of its documents in already. */
  partial: boolean;
}

export const scheduleArb: fc.Arbitrary<Schedule> = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 }),
  delays: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }),
  partial: fc.boolean(),
});

/** How often the database, rather than memory, answered a repeat (the property test asserts it does). */
export interface LookupCounts {
  /** Repeats and marks answered with a decision read from the database. */
  found: number;
  /** Of those, requests and pending transfers whose status (cancelled, expired, posted, voided) came from other documents. */
  laterStatus: number;
  /** Of those, originals whose total reversed came from the reversals' documents. */
  reversed?: number;
}

/** One record of a batch: `apply` decides it (call it once, in order). */
export interface BatchedRecord extends LogRecord {
  offset: number;
  apply: () => Step;
}

/** Yields the log's records batch by batch; the database's inserts follow `schedule`. */
export function* decideInBatches(p: PartitionLedger, log: LogRecord[], schedule: Schedule, db: MemoryLedger, counts?: LookupCounts): Generator<BatchedRecord> {
  const inFlight: { docs: LedgerDoc[]; before: number; due: number }[] = [];
  let insertedBefore = 0;
  let offset = 0;
  for (let n = 0; offset < log.length; n++) {
    while (inFlight.length > 0 && inFlight[0]!.due <= n) {
      const done = inFlight.shift()!;
      db.insert(done.docs);
      insertedBefore = done.before;
    }
    const under = inFlight[0];
    if (schedule.partial && under) db.insert(under.docs.slice(0, Math.ceil(under.docs.length / 2)));
    p.durableBefore(insertedBefore);
    const records = log.slice(offset, offset + schedule.sizes[n % schedule.sizes.length]!);
    const durable = counted(db.lookUp(p.partition, p.lookupsFor(records)), counts);
    const docs: LedgerDoc[] = [];
    for (const [i, { msg, timestamp }] of records.entries()) {
      const at = offset + i;
      yield { msg, timestamp, offset: at, apply: () => keepDocs(p.apply(msg, at, timestamp, durable), docs) };
    }
    inFlight.push({ docs, before: offset + records.length, due: n + 1 + schedule.delays[n % schedule.delays.length]! });
    offset += records.length;
  }
}

/** Every step of `log` decided in batches. */
export function runInBatches(p: PartitionLedger, log: LogRecord[], schedule: Schedule, db = new MemoryLedger(), counts?: LookupCounts): Step[] {
  return [...decideInBatches(p, log, schedule, db, counts)].map(({ apply }) => apply());
}

/**
 * Applies one record as a batch of its own whose documents are in the
 * database before the next: memory holds nothing, every repeat is read back.
 */
export function applyDurably(p: PartitionLedger, db: MemoryLedger, record: LogRecord, offset: number): Step {
  p.durableBefore(offset);
  return db.apply(p, record.msg, offset, record.timestamp);
}

function keepDocs(step: Step, docs: LedgerDoc[]): Step {
  docs.push(...step.docs);
  return step;
}

function counted(durable: DurableIds, counts: LookupCounts | undefined): DurableIds {
  if (!counts) return durable;
  return {
    lookedUp: (key) => durable.lookedUp(key),
    firstOutcome: (key, offset, horizon) => {
      const outcome = durable.firstOutcome(key, offset, horizon);
      if (outcome) counts.found++;
      if (outcome?.status === 'cancelled' || outcome?.status === 'expired' || outcome?.status === 'posted' || outcome?.status === 'voided') counts.laterStatus++;
      if (outcome?.reversed !== undefined) counts.reversed = (counts.reversed ?? 0) + 1;
      return outcome;
    },
  };
}

// Property-based replay tests of the partition state machine: random logs over
// a few accounts (deposits, requests, withdrawals with and without requestId,
// cancels, ticks, retries with the same and with another body, a jittery clock,
// holds with and without expiry), then
//  (a) the invariants of docs/ledger-rules.md and the reference model after every step,
//      decided in batches as the consumer does: memory holds only what the database
//      does not hold yet, and the rest is looked up there (test/helpers/batched-log.ts);
//  (b) determinism: the same log from scratch gives the same everything, whether it is
//      decided all in memory or in batches against a database;
//  (c) redelivery as the consumer does it: crash, restore the snapshot taken at an
//      earlier offset, re-read the log from there: same final state, same documents;
//  (d) restarts from a JSON round-tripped snapshot every k offsets: same final state;
//  (e) delta snapshots laid over a whole one give the whole state back.
// After a restore memory holds nothing: (c) to (e) read every repeat back from the
// database, which also holds the documents a crashed owner wrote past the snapshot.
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { PartitionLedger, type PartitionSnapshot, type Step } from '../../consumer/partition.js';
import { layDelta, mergedSnapshot, mergeSnapshots, startMerge, type MergedSnapshot } from '../../consumer/snapshot-merge.js';
import type { LedgerDoc, LogMessage, TxMessage } from '../../common/types.js';
import { applyDurably, decideInBatches, runInBatches, scheduleArb, type LookupCounts } from '../helpers/batched-log.js';
import { LedgerModel } from '../helpers/ledger-model.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';

const PARTITION = 7;
const ACCOUNTS = ['acc-a', 'acc-b', '__proto__'];
const FOREVER = 1e12;
const RUNS = Number(process.env.REPLAY_RUNS ?? 300);

// ---- log generation -------------------------------------------------------

type Kind = 'deposit' | 'request' | 'withdraw' | 'capture' | 'cancel' | 'tick' | 'retry' | 'reuse';

interface Op {
  kind: Kind;
  acct: number;
  amount: number;
  /** Hold lifetime relative to receivedAt (sometimes already past); undefined: no expiry. */
  ttl: number | undefined;
  /** Picks an earlier message or request. */
  ref: number;
  /** For capture and cancel: an earlier request, or an id never requested. */
  known: boolean;
  /** Step of the clock: mostly forward, sometimes back (jitter), sometimes a jump. */
  dt: number;
  variant: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.oneof(
    { weight: 3, arbitrary: fc.constant<Kind>('deposit') },
    { weight: 4, arbitrary: fc.constant<Kind>('request') },
    { weight: 2, arbitrary: fc.constant<Kind>('withdraw') },
    { weight: 2, arbitrary: fc.constant<Kind>('capture') },
    { weight: 2, arbitrary: fc.constant<Kind>('cancel') },
    { weight: 1, arbitrary: fc.constant<Kind>('tick') },
    { weight: 3, arbitrary: fc.constant<Kind>('retry') },
    { weight: 1, arbitrary: fc.constant<Kind>('reuse') },
  ),
  acct: fc.nat(ACCOUNTS.length - 1),
  // Round amounts make "available exactly equal to the request" common.
  amount: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(10, 20, 25, 50, 100) },
    { weight: 20, arbitrary: fc.integer({ min: 1, max: 120 }) },
    // Amounts near 2^53 - 1, so balances reach the edge of what is counted exactly.
    { weight: 1, arbitrary: fc.integer({ min: Number.MAX_SAFE_INTEGER - 200, max: Number.MAX_SAFE_INTEGER }) },
  ),
  ttl: fc.option(fc.integer({ min: -50, max: 800 }), { nil: undefined, freq: 2 }),
  ref: fc.nat(),
  known: fc.boolean(),
  dt: fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 150 }) },
    { weight: 2, arbitrary: fc.integer({ min: -120, max: -1 }) },
    { weight: 1, arbitrary: fc.integer({ min: 500, max: 2_000 }) },
  ),
  variant: fc.nat(3),
});

function buildLog(ops: Op[]): LogMessage[] {
  let now = 1_000_000;
  const log: LogMessage[] = [];
  const txs: TxMessage[] = [];
  const requests: TxMessage[] = [];
  const add = (m: LogMessage) => {
    log.push(m);
    if (m.type !== 'tick') txs.push(m);
    if (m.type === 'withdraw_request') requests.push(m);
  };
  ops.forEach((op, i) => {
    now += op.dt;
    const accountId = ACCOUNTS[op.acct]!;
    const base: { v: 1; id: string; accountId: string; receivedAt: number; clientTimestamp?: string } = { v: 1, id: `t${i}`, accountId, receivedAt: now };
    // The client's claimed time, sometimes far from the log clock: it must change nothing.
    if (op.variant === 2) base.clientTimestamp = new Date(now - op.dt * 1_000_000).toISOString();
    const requestId = () => (op.known && requests.length > 0 ? requests[op.ref % requests.length]!.id : `none${i}`);
    switch (op.kind) {
      case 'deposit':
        // Larger than the rest, so that requests are approved about as often as denied.
        return add({ ...base, type: 'deposit', amount: op.amount * 3 });
      case 'withdraw':
        return add({ ...base, type: 'withdraw', amount: op.amount });
      case 'request': {
        const m: TxMessage = { ...base, type: 'withdraw_request', amount: op.amount };
        if (op.ttl !== undefined) m.expiresAt = now + op.ttl;
        // The time to live asked for (part of the body); none, as an api from before it sent.
        if (op.variant > 0) m.expiresInSeconds = 60 * op.variant;
        return add(m);
      }
      case 'capture': {
        // Mostly on the request's own account; a request of another account is not held here.
        const rid = requestId();
        const owner = requests.find((r) => r.id === rid)?.accountId;
        return add({ ...base, accountId: op.variant > 0 && owner ? owner : accountId, type: 'withdraw', amount: op.amount, requestId: rid });
      }
      case 'cancel': {
        const rid = requestId();
        const owner = requests.find((r) => r.id === rid)?.accountId;
        return add({ ...base, accountId: op.variant > 0 && owner ? owner : accountId, type: 'cancel', requestId: rid });
      }
      case 'tick':
        return add({ v: 1, type: 'tick', receivedAt: now });
      case 'retry': {
        // The same body again, later, with new transport fields; often a request, whose answer
        // may have become cancelled or expired meanwhile.
        const pool = op.variant < 2 && requests.length > 0 ? requests : txs;
        const first = pool[op.ref % Math.max(1, pool.length)];
        if (!first) return add({ v: 1, type: 'tick', receivedAt: now });
        const m: TxMessage = { ...first, receivedAt: now, replyTo: `api-${op.variant}`, callId: `call.${i}`, clientTimestamp: new Date(now).toISOString() };
        if (first.type === 'withdraw_request' && op.ttl !== undefined) m.expiresAt = now + op.ttl;
        return add(m);
      }
      case 'reuse': {
        // The same id with another body.
        const first = txs[op.ref % Math.max(1, txs.length)];
        if (!first) return add({ v: 1, type: 'tick', receivedAt: now });
        const m: TxMessage = { ...first, receivedAt: now };
        if (first.type === 'cancel') m.requestId = `${first.requestId}x`;
        // Another time to live: a conflict when both carry one, compared as before when either does not.
        else if (first.type === 'withdraw_request' && op.variant === 3) m.expiresInSeconds = first.expiresInSeconds === undefined ? 60 : first.expiresInSeconds + 1;
        else if (op.variant === 0) m.amount = first.amount! + 1;
        else if (op.variant === 1) m.type = first.type === 'deposit' ? 'withdraw' : 'deposit';
        else if (first.requestId === undefined) m.requestId = `r${op.ref}`;
        else delete m.requestId;
        if (m.type !== 'withdraw_request') {
          delete m.expiresAt;
          delete m.expiresInSeconds;
        }
        return add(m);
      }
    }
  });
  return log;
}

const logArb = (max: number) => fc.array(opArb, { minLength: 1, maxLength: max, size: 'max' }).map(buildLog);
const windowArb = fc.constantFrom(FOREVER, 300, 1_000, 5_000);

// ---- running --------------------------------------------------------------

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function runAll(log: LogMessage[], windowMs: number): { steps: Step[]; final: PartitionSnapshot } {
  const p = new PartitionLedger(PARTITION, windowMs);
  const steps = log.map((m, i) => p.apply(m, i));
  return { steps, final: json(p.snapshot(log.length)) };
}

// ---- properties -----------------------------------------------------------

t.test('(a) invariants and the reference model hold after every step', async (t) => {
  const statuses = new Map<string, number>();
  let renewedIds = 0;
  let nothingCreated = 0;
  let ttlConflicts = 0;
  let ttlNotCompared = 0;
  const lookups: LookupCounts = { found: 0, laterStatus: 0 };
  fc.assert(
    fc.property(logArb(80), windowArb, scheduleArb, (log, windowMs, schedule) => {
      const p = new PartitionLedger(PARTITION, windowMs);
      const model = new LedgerModel(PARTITION, windowMs === FOREVER ? Infinity : windowMs);
      for (const { msg: m, offset, apply } of decideInBatches(p, log, schedule, new MemoryLedger(), lookups)) {
        const before = new Map([...p.accountIds()].map((id) => [id, p.account(id)]));
        const step = apply();
        model.check(p, m, offset, step);
        // Accounts this message did not touch are the very same objects.
        for (const [id, acc] of before) if (!step.touched.includes(id) && p.account(id) !== acc) throw new Error(`${id} changed untouched`);
        const o = step.outcome;
        const s = o
          ? [o.type, o.status, o.reason, o.replayed && 'replayed', o.overdraft && 'overdraft', o.type === 'withdraw' && o.requestId && !o.reason && 'capture']
              .filter(Boolean)
              .join(':')
          : 'tick';
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
        for (const d of step.docs) if (d.type === 'expire') statuses.set('expire', (statuses.get('expire') ?? 0) + 1);
      }
      renewedIds += model.renewedIds;
      nothingCreated += model.nothingCreated;
      ttlConflicts += model.ttlConflicts;
      ttlNotCompared += model.ttlNotCompared;
    }),
    { numRuns: RUNS },
  );
  t.ok(lookups.found > 0, `generated: first outcomes read back from the database (${lookups.found})`);
  t.ok(lookups.laterStatus > 0, `generated: requests read back cancelled or expired by later documents (${lookups.laterStatus})`);
  // The generator must reach every branch, or the property proves little.
  for (const s of [
    'deposit:applied',
    'deposit:applied:replayed',
    'deposit:conflict:id_reused',
    'withdraw_request:approved',
    'withdraw_request:denied:insufficient_funds',
    'withdraw_request:approved:replayed',
    'withdraw_request:cancelled:replayed',
    'withdraw_request:expired:replayed',
    'withdraw:applied',
    'withdraw:applied:overdraft',
    'withdraw:applied:capture',
    'withdraw:applied:request_not_held',
    'cancel:applied',
    'cancel:not_found:request_not_held',
    'cancel:conflict:id_reused',
    'tick',
    'expire',
  ]) {
    t.ok((statuses.get(s) ?? 0) > 0, `generated: ${s} (${statuses.get(s) ?? 0})`);
  }
  t.ok(renewedIds > 0, `generated: ids decided anew after the window, each with a document of its own (${renewedIds})`);
  t.ok(nothingCreated > 0, `generated: decisions on an unknown account that create no account (${nothingCreated})`);
  t.ok(ttlConflicts > 0, `generated: repeats refused for another time to live alone (${ttlConflicts})`);
  t.ok(ttlNotCompared > 0, `generated: repeats where one side carries no time to live, compared as before (${ttlNotCompared})`);
});

t.test('(b) the same log from scratch gives the same outcomes, documents and state', async (t) => {
  fc.assert(
    fc.property(logArb(80), windowArb, scheduleArb, (log, windowMs, schedule) => {
      const a = runAll(log, windowMs);
      const b = runAll(json(log), windowMs);
      deepStrictEqual(b.steps, a.steps);
      deepStrictEqual(b.final, a.final);
      // Memory letting go of what the database holds changes no answer and no state.
      const p = new PartitionLedger(PARTITION, windowMs);
      deepStrictEqual(runInBatches(p, json(log), schedule), a.steps, 'decided in batches against a database');
      deepStrictEqual(json(p.snapshot(log.length)), a.final, 'the same final state');
    }),
    { numRuns: RUNS },
  );
  t.pass('deterministic');
});

t.test('(c) crash and redelivery from an earlier snapshot: same final state, same documents', async (t) => {
  const scenario = fc
    .tuple(logArb(80), windowArb)
    .chain(([log, windowMs]) =>
      fc.record({
        log: fc.constant(log),
        windowMs: fc.constant(windowMs),
        // Offsets after which the owner takes a snapshot (kept as an object, written out later).
        snapshotAt: fc.uniqueArray(fc.integer({ min: 1, max: log.length }), { maxLength: 6 }),
        // Offsets after which the owner crashes, and which of the snapshots it then finds.
        crashes: fc.array(fc.tuple(fc.integer({ min: 1, max: log.length }), fc.nat()), { maxLength: 4 }),
      }),
    );
  let redelivered = 0;
  fc.assert(
    fc.property(scenario, ({ log, windowMs, snapshotAt, crashes }) => {
      const reference = runAll(log, windowMs);
      // Keyed as MongoDB keys them, by _id: a duplicate insert changes nothing.
      const refDocs = new Map(reference.steps.flatMap((s) => s.docs.map((d) => [d._id, d] as const)));
      deepStrictEqual(refDocs.size, reference.steps.reduce((n, s) => n + s.docs.length, 0), 'unique _ids');
      const pending = new Map(crashes.map(([at, pick]) => [at, pick]));
      const snapshots: PartitionSnapshot[] = [new PartitionLedger(PARTITION, windowMs).snapshot(0)];
      const written = new Map<string, LedgerDoc>();
      // The database: every document is in it before the next message (so a snapshot is never ahead of it).
      const db = new MemoryLedger();
      let p = new PartitionLedger(PARTITION, windowMs);
      let offset = 0;
      while (offset < log.length) {
        const step = applyDurably(p, db, log[offset]!, offset);
        // Every answer, first time or redelivered, is the one the uninterrupted run gave.
        deepStrictEqual(step, reference.steps[offset], `offset ${offset}`);
        for (const d of step.docs) {
          const prior = written.get(d._id);
          if (prior) deepStrictEqual(d, prior, 'a recomputed document differs from the one written');
          else written.set(d._id, d);
        }
        offset++;
        if (snapshotAt.includes(offset)) snapshots.push(p.snapshot(offset));
        const pick = pending.get(offset);
        if (pick !== undefined) {
          pending.delete(offset);
          // The owner dies; a new one loads a snapshot at or before the committed offset
          // (stored as JSON now, whatever happened to the live state since) and re-reads from there,
          // with the documents written past it still in the database.
          const usable = snapshots.filter((s) => s.offset <= offset);
          const snap = usable[pick % usable.length]!;
          p = PartitionLedger.restore(json(snap), windowMs);
          redelivered += offset - snap.offset;
          offset = snap.offset;
        }
      }
      deepStrictEqual(json(p.snapshot(log.length)), reference.final, 'final state');
      deepStrictEqual([...written.keys()].sort(), [...refDocs.keys()].sort(), 'the same set of documents');
      for (const [k, d] of written) deepStrictEqual(d, refDocs.get(k));
    }),
    { numRuns: RUNS },
  );
  t.ok(redelivered > 0, `messages redelivered in all: ${redelivered}`);
});

t.test('(d) a restart from a JSON snapshot every k offsets ends where the uninterrupted run does', async (t) => {
  fc.assert(
    fc.property(logArb(80), windowArb, fc.integer({ min: 1, max: 10 }), (log, windowMs, k) => {
      const reference = runAll(log, windowMs);
      const db = new MemoryLedger();
      let p = new PartitionLedger(PARTITION, windowMs);
      const steps: Step[] = [];
      log.forEach((m, offset) => {
        steps.push(applyDurably(p, db, m, offset));
        if ((offset + 1) % k === 0) p = PartitionLedger.restore(json(p.snapshot(offset + 1)), windowMs);
      });
      deepStrictEqual(steps, reference.steps, 'the same steps');
      deepStrictEqual(json(p.snapshot(log.length)), reference.final, 'the same final snapshot');
    }),
    { numRuns: RUNS },
  );
  t.pass('restarts are invisible');
});

t.test('(e) a chain of delta snapshots, merged at once or one at a time, restores the state a whole snapshot holds', async (t) => {
  let deltasUsed = 0;
  fc.assert(
    fc.property(logArb(80), windowArb, fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }), fc.integer({ min: 1, max: 8 }), (log, windowMs, whole, k) => {
      const reference = runAll(log, windowMs);
      const db = new MemoryLedger();
      const p = new PartitionLedger(PARTITION, windowMs);
      // Saved snapshots since the last whole one, as stored (JSON).
      let chain: PartitionSnapshot[] = [];
      // The same chain merged one snapshot at a time, as a consumer standing by keeps it.
      let warm: MergedSnapshot | undefined;
      log.forEach((m, i) => {
        applyDurably(p, db, m, i);
        const offset = i + 1;
        if (offset % k !== 0 && offset !== log.length) return;
        const isWhole = chain.length === 0 || whole[i]!;
        const taken = json(p.takeSnapshot(offset, isWhole));
        chain = isWhole ? [taken] : [...chain, taken];
        deltasUsed += chain.length - 1;
        if (isWhole || !warm) warm = startMerge(taken, windowMs);
        else layDelta(warm, taken);
        deepStrictEqual(json(mergedSnapshot(warm)), json(mergeSnapshots(chain, windowMs)), `merged one at a time at ${offset}`);
        const restored = PartitionLedger.restore(json(mergeSnapshots(chain, windowMs)), windowMs);
        deepStrictEqual(json(restored.snapshot(offset)), json(p.snapshot(offset)), `state at ${offset} from ${chain.length} links`);
        // And the rest of the log from there answers as the uninterrupted run did.
        const rest = log.slice(offset).map((msg, j) => applyDurably(restored, db, msg, offset + j));
        deepStrictEqual(rest, reference.steps.slice(offset), `steps after ${offset}`);
      });
    }),
    { numRuns: RUNS },
  );
  t.ok(deltasUsed > 0, `deltas laid over whole snapshots: ${deltasUsed}`);
});

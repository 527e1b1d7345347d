// Property-based replay tests of the partition state machine: random logs
// (test/helpers/replay-log.ts: a few accounts, every message type, retries,
// a jittery clock, replicas whose clocks jump ahead, hold limits, and clock
// markers that move a partition to the broker's clock part way), then
//  (a) the invariants of docs/ledger-rules.md and the reference model after every step;
//  (b) determinism: the same log from scratch gives the same everything;
//  (c) redelivery as the consumer does it: crash, restore the snapshot taken at an
//      earlier offset, re-read the log from there: same final state, same documents;
//  (d) restarts from a JSON round-tripped snapshot every k offsets: same final state;
//  (e) delta snapshots laid over a whole one give the whole state back;
//  (f) replays from a snapshot taken before the clock marker and from one after it agree.
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { PartitionLedger, type PartitionSnapshot, type Step } from '../../consumer/partition.js';
import { layDelta, mergedSnapshot, mergeSnapshots, startMerge, type MergedSnapshot } from '../../consumer/snapshot-merge.js';
import type { LedgerDoc } from '../../common/types.js';
import { LedgerModel } from '../helpers/ledger-model.js';
import { applyRecord, FAR_AHEAD_MS, logArb, type LogRecord } from '../helpers/replay-log.js';

const PARTITION = 7;
const FOREVER = 1e12;
const RUNS = Number(process.env.REPLAY_RUNS ?? 300);
const windowArb = fc.constantFrom(FOREVER, 300, 1_000, 5_000);

// ---- running --------------------------------------------------------------

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function runAll(log: LogRecord[], windowMs: number): { steps: Step[]; final: PartitionSnapshot } {
  const p = new PartitionLedger(PARTITION, windowMs);
  const steps = log.map((r, i) => applyRecord(p, r, i));
  return { steps, final: json(p.snapshot(log.length)) };
}

// ---- properties -----------------------------------------------------------

t.test('(a) invariants and the reference model hold after every step', async (t) => {
  const statuses = new Map<string, number>();
  let renewedIds = 0;
  let nothingCreated = 0;
  let ttlConflicts = 0;
  let ttlNotCompared = 0;
  /** Calls from a replica far ahead: under `receivedAt` they moved the clock, under the broker's they did not. */
  const farAhead = { moved: 0, ignored: 0 };
  fc.assert(
    fc.property(logArb(80), windowArb, (log, windowMs) => {
      const p = new PartitionLedger(PARTITION, windowMs);
      const model = new LedgerModel(PARTITION, windowMs === FOREVER ? Infinity : windowMs);
      log.forEach(({ msg: m, timestamp }, offset) => {
        const before = new Map([...p.accountIds()].map((id) => [id, p.account(id)]));
        const clockBefore = p.clock;
        const step = p.apply(m, offset, timestamp);
        model.check(p, m, offset, step, timestamp);
        if (m.receivedAt - clockBefore >= FAR_AHEAD_MS / 2 && m.type !== 'clock') {
          if (p.clockSource === 'receivedAt') farAhead.moved++;
          else if (p.clock >= m.receivedAt) throw new Error(`offset ${offset}: a replica's clock moved the broker-timed clock`);
          else farAhead.ignored++;
        }
        // Accounts this message did not touch are the very same objects.
        for (const [id, acc] of before) if (!step.touched.includes(id) && p.account(id) !== acc) throw new Error(`${id} changed untouched`);
        const o = step.outcome;
        const s = o
          ? [o.type, o.status, o.reason, o.replayed && 'replayed', o.overdraft && 'overdraft', o.type === 'withdraw' && o.requestId && !o.reason && 'capture']
              .filter(Boolean)
              .join(':')
          : m.type;
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
        const expire = `expire:${p.clockSource}`;
        for (const d of step.docs) if (d.type === 'expire') statuses.set(expire, (statuses.get(expire) ?? 0) + 1);
      });
      renewedIds += model.renewedIds;
      nothingCreated += model.nothingCreated;
      ttlConflicts += model.ttlConflicts;
      ttlNotCompared += model.ttlNotCompared;
    }),
    { numRuns: RUNS },
  );
  // The generator must reach every branch, or the property proves little.
  for (const s of [
    'deposit:applied',
    'deposit:applied:replayed',
    'deposit:conflict:id_reused',
    'withdraw_request:approved',
    'withdraw_request:denied:insufficient_funds',
    'withdraw_request:denied:hold_limit',
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
    'clock',
    'expire:receivedAt',
    'expire:log-append-time',
  ]) {
    t.ok((statuses.get(s) ?? 0) > 0, `generated: ${s} (${statuses.get(s) ?? 0})`);
  }
  t.ok(renewedIds > 0, `generated: ids decided anew after the window, each with a document of its own (${renewedIds})`);
  t.ok(nothingCreated > 0, `generated: decisions on an unknown account that create no account (${nothingCreated})`);
  t.ok(ttlConflicts > 0, `generated: repeats refused for another time to live alone (${ttlConflicts})`);
  t.ok(ttlNotCompared > 0, `generated: repeats where one side carries no time to live, compared as before (${ttlNotCompared})`);
  t.ok(farAhead.moved > 0, `generated: a replica far ahead moving a partition clocked by receivedAt (${farAhead.moved})`);
  t.ok(farAhead.ignored > 0, `generated: a replica far ahead ignored by a partition on the broker's clock (${farAhead.ignored})`);
});

t.test('(b) the same log from scratch gives the same outcomes, documents and state', async (t) => {
  fc.assert(
    fc.property(logArb(80), windowArb, (log, windowMs) => {
      const a = runAll(log, windowMs);
      const b = runAll(json(log), windowMs);
      deepStrictEqual(b.steps, a.steps);
      deepStrictEqual(b.final, a.final);
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
      let p = new PartitionLedger(PARTITION, windowMs);
      let offset = 0;
      while (offset < log.length) {
        const step = applyRecord(p, log[offset]!, offset);
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
          // (stored as JSON now, whatever happened to the live state since) and re-reads from there.
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
      let p = new PartitionLedger(PARTITION, windowMs);
      const steps: Step[] = [];
      log.forEach((r, offset) => {
        steps.push(applyRecord(p, r, offset));
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
      const p = new PartitionLedger(PARTITION, windowMs);
      // Saved snapshots since the last whole one, as stored (JSON).
      let chain: PartitionSnapshot[] = [];
      // The same chain merged one snapshot at a time, as a consumer standing by keeps it.
      let warm: MergedSnapshot | undefined;
      log.forEach((r, i) => {
        applyRecord(p, r, i);
        const offset = i + 1;
        if (offset % k !== 0 && offset !== log.length) return;
        const isWhole = chain.length === 0 || whole[i % whole.length]!;
        const taken = json(p.takeSnapshot(offset, isWhole));
        chain = isWhole ? [taken] : [...chain, taken];
        deltasUsed += chain.length - 1;
        if (isWhole || !warm) warm = startMerge(taken);
        else layDelta(warm, taken);
        deepStrictEqual(json(mergedSnapshot(warm)), json(mergeSnapshots(chain)), `merged one at a time at ${offset}`);
        const restored = PartitionLedger.restore(json(mergeSnapshots(chain)), windowMs);
        deepStrictEqual(json(restored.snapshot(offset)), json(p.snapshot(offset)), `state at ${offset} from ${chain.length} links`);
        // And the rest of the log from there answers as the uninterrupted run did.
        const rest = log.slice(offset).map((r, j) => applyRecord(restored, r, offset + j));
        deepStrictEqual(rest, reference.steps.slice(offset), `steps after ${offset}`);
      });
    }),
    { numRuns: RUNS },
  );
  t.ok(deltasUsed > 0, `deltas laid over whole snapshots: ${deltasUsed}`);
});

t.test('(f) replays from a snapshot taken before the clock marker and from one after it agree', async (t) => {
  const scenario = fc
    .tuple(logArb(80), windowArb)
    .filter(([log]) => log.some((r) => r.msg.type === 'clock'))
    .chain(([log, windowMs]) => {
      const marker = log.findIndex((r) => r.msg.type === 'clock');
      return fc.record({
        log: fc.constant(log),
        windowMs: fc.constant(windowMs),
        // Snapshot offsets: one whose state has not read the marker, one whose state has.
        before: fc.integer({ min: 0, max: marker }),
        after: fc.integer({ min: marker + 1, max: log.length }),
      });
    });
  let markers = 0;
  fc.assert(
    fc.property(scenario, ({ log, windowMs, before, after }) => {
      const reference = runAll(log, windowMs);
      const snapshots = new Map<number, PartitionSnapshot>();
      const p = new PartitionLedger(PARTITION, windowMs);
      log.forEach((r, offset) => {
        if (offset === before || offset === after) snapshots.set(offset, json(p.snapshot(offset)));
        applyRecord(p, r, offset);
      });
      snapshots.set(log.length, json(p.snapshot(log.length)));
      deepStrictEqual(snapshots.get(before)!.clockSource, undefined, 'before the marker: receivedAt');
      deepStrictEqual(snapshots.get(after)!.clockSource, 'log-append-time', 'after the marker: the broker clock');
      for (const from of [before, after]) {
        const restored = PartitionLedger.restore(snapshots.get(from)!, windowMs);
        const steps = log.slice(from).map((r, j) => applyRecord(restored, r, from + j));
        deepStrictEqual(steps, reference.steps.slice(from), `steps replayed from ${from}`);
        deepStrictEqual(json(restored.snapshot(log.length)), reference.final, `final state replayed from ${from}`);
      }
      markers++;
    }),
    { numRuns: RUNS },
  );
  t.ok(markers > 0, `logs with a marker replayed from both sides of it: ${markers}`);
});

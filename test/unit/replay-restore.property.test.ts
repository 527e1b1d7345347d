// Property-based replay tests of the partition state machine restored from
// snapshots, over the random logs of test/helpers/replay-log.ts (clock markers
// included), each held to the uninterrupted run:
//  (c) redelivery as the consumer does it: crash, restore the snapshot taken at an
//      earlier offset, re-read the log from there: same final state, same documents;
//  (d) restarts from a JSON round-tripped snapshot every k offsets: same final state;
//  (e) delta snapshots laid over a whole one give the whole state back;
//  (f) replays from a snapshot taken before the clock marker and from one after it agree.
// After a restore memory holds nothing: every repeat is read back from the
// database, which also holds the documents a crashed owner wrote past the
// snapshot (test/helpers/batched-log.ts `applyDurably`). The logs of (c) to (e)
// carry their transfers' credits and returns (test/helpers/replay-run.ts
// `withLegs`), so snapshots are taken with money in flight.
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { PartitionLedger, type PartitionSnapshot, type Step } from '../../consumer/partition.js';
import { layDelta, mergedSnapshot, mergeSnapshots, startMerge, type MergedSnapshot } from '../../consumer/snapshot-merge.js';
import type { LedgerDoc } from '../../common/types.js';
import { applyDurably } from '../helpers/batched-log.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { logArb } from '../helpers/replay-log.js';
import { json, PARTITION, RUNS, runAll, windowArb, withLegs } from '../helpers/replay-run.js';

t.test('(c) crash and redelivery from an earlier snapshot: same final state, same documents', async (t) => {
  const scenario = fc
    .tuple(logArb(80), windowArb)
    .map(([generated, windowMs]) => [withLegs(generated, windowMs), windowMs] as const)
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
    fc.property(logArb(80), windowArb, fc.integer({ min: 1, max: 10 }), (generated, windowMs, k) => {
      const log = withLegs(generated, windowMs);
      const reference = runAll(log, windowMs);
      const db = new MemoryLedger();
      let p = new PartitionLedger(PARTITION, windowMs);
      const steps: Step[] = [];
      log.forEach((r, offset) => {
        steps.push(applyDurably(p, db, r, offset));
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
    fc.property(logArb(80), windowArb, fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }), fc.integer({ min: 1, max: 8 }), (generated, windowMs, whole, k) => {
      const log = withLegs(generated, windowMs);
      const reference = runAll(log, windowMs);
      const db = new MemoryLedger();
      const p = new PartitionLedger(PARTITION, windowMs);
      // Saved snapshots since the last whole one, as stored (JSON).
      let chain: PartitionSnapshot[] = [];
      // The same chain merged one snapshot at a time, as a consumer standing by keeps it.
      let warm: MergedSnapshot | undefined;
      log.forEach((r, i) => {
        applyDurably(p, db, r, i);
        const offset = i + 1;
        if (offset % k !== 0 && offset !== log.length) return;
        const isWhole = chain.length === 0 || whole[i % whole.length]!;
        const taken = json(p.takeSnapshot(offset, isWhole));
        chain = isWhole ? [taken] : [...chain, taken];
        deltasUsed += chain.length - 1;
        if (isWhole || !warm) warm = startMerge(taken, windowMs);
        else layDelta(warm, taken);
        deepStrictEqual(json(mergedSnapshot(warm)), json(mergeSnapshots(chain, windowMs)), `merged one at a time at ${offset}`);
        const restored = PartitionLedger.restore(json(mergeSnapshots(chain, windowMs)), windowMs);
        deepStrictEqual(json(restored.snapshot(offset)), json(p.snapshot(offset)), `state at ${offset} from ${chain.length} links`);
        // And the rest of the log from there answers as the uninterrupted run did.
        const rest = log.slice(offset).map((r, j) => applyDurably(restored, db, r, offset + j));
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
      // Every document of the log is in the database: the replays read their repeats back from it.
      const db = new MemoryLedger();
      const p = new PartitionLedger(PARTITION, windowMs);
      log.forEach((r, offset) => {
        if (offset === before || offset === after) snapshots.set(offset, json(p.snapshot(offset)));
        applyDurably(p, db, r, offset);
      });
      snapshots.set(log.length, json(p.snapshot(log.length)));
      deepStrictEqual(snapshots.get(before)!.clockSource, undefined, 'before the marker: receivedAt');
      deepStrictEqual(snapshots.get(after)!.clockSource, 'log-append-time', 'after the marker: the broker clock');
      for (const from of [before, after]) {
        const restored = PartitionLedger.restore(snapshots.get(from)!, windowMs);
        const steps = log.slice(from).map((r, j) => applyDurably(restored, db, r, from + j));
        deepStrictEqual(steps, reference.steps.slice(from), `steps replayed from ${from}`);
        deepStrictEqual(json(restored.snapshot(log.length)), reference.final, `final state replayed from ${from}`);
      }
      markers++;
    }),
    { numRuns: RUNS },
  );
  t.ok(markers > 0, `logs with a marker replayed from both sides of it: ${markers}`);
});

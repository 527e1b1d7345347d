// The partition state machine: snapshot and restore, special words as ids,
// and decisions memory has let go of.
import t from 'tap';
import { IdFilter } from '../../consumer/id-filter.js';
import { PartitionLedger, type PartitionSnapshot } from '../../consumer/partition.js';
import type { LogMessage } from '../../common/types.js';
import { apply, DAY, restore, run, state } from '../helpers/partition-harness.js';
import { cancel, deposit, request, tick, withdraw } from '../helpers/tx.js';

t.test('snapshot and restore', async (t) => {
  // A prefix leaving open holds (one due later), cancelled and expired requests, remembered ids.
  const prefix: LogMessage[] = [
    deposit('d1', 'a', 100, { receivedAt: 1_000 }),
    deposit('d2', 'b', 50, { receivedAt: 1_100 }),
    request('r1', 'a', 30, { receivedAt: 1_200, expiresAt: 4_000 }),
    request('r2', 'a', 20, { receivedAt: 1_300 }),
    request('r3', 'b', 50, { receivedAt: 1_400, expiresAt: 1_500 }),
    request('r4', 'b', 10, { receivedAt: 1_450 }),
    tick(1_600),
    request('r5', 'a', 10, { receivedAt: 1_700 }),
    cancel('c5', 'a', 'r5', { receivedAt: 1_710 }),
    withdraw('w1', 'a', 5, { receivedAt: 1_800 }),
  ];
  const suffix: LogMessage[] = [
    request('r1', 'a', 30, { receivedAt: 2_000 }),
    request('r3', 'b', 50, { receivedAt: 2_000 }),
    request('r5', 'a', 10, { receivedAt: 2_000 }),
    deposit('d1', 'a', 999, { receivedAt: 2_000 }),
    deposit('d1', 'a', 100, { receivedAt: 2_001 }),
    tick(4_000),
    request('r1', 'a', 30, { receivedAt: 4_100 }),
    withdraw('w2', 'a', 80, { receivedAt: 4_200 }),
    deposit('d2', 'b', 50, { receivedAt: 1_100 + 5_000 }),
    deposit('d3', 'b', 1, { receivedAt: 7_000 }),
    deposit('d2', 'b', 50, { receivedAt: 7_000 }),
  ];

  t.test('JSON round trip, then identical behaviour', async (t) => {
    const original = new PartitionLedger(4, 5_000);
    run(original, prefix);
    const snap = original.snapshot(prefix.length);
    t.equal(snap.partition, 4);
    t.equal(snap.offset, prefix.length);
    t.equal(snap.clock, 1_800);
    const restored = restore(original, JSON.parse(JSON.stringify(snap)) as PartitionSnapshot, 5_000);
    t.equal(restored.partition, 4);
    t.equal(restored.clock, 1_800);
    t.strictSame(state(restored, 10), state(original, 10), 'same state');

    const a = run(original, suffix, prefix.length);
    const b = run(restored, suffix, prefix.length);
    t.strictSame(b, a, 'same outcomes, docs and touched accounts, step by step');
    t.strictSame(state(restored), state(original), 'same final state');
    // The suffix exercised what a snapshot must carry: seen ids, marks, holds to lapse, the window.
    t.strictSame(
      a.map((s) => s.outcome?.status ?? 'tick'),
      ['approved', 'expired', 'cancelled', 'conflict', 'applied', 'tick', 'expired', 'applied', 'applied', 'applied', 'applied'],
    );
    t.strictSame(
      a.map((s) => s.outcome?.replayed ?? false),
      [true, true, true, false, true, false, true, false, true, false, false],
    );
    t.equal(original.account('b')?.balance, 101, 'd2 forgotten by the window and applied again');
  });

  t.test('a snapshot is a value: what happens later does not change it', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [deposit('d', 'acc', 100), request('r', 'acc', 60), request('q', 'acc', 10, { expiresAt: 5_000 })]);
    const snap = p.snapshot(3);
    const taken = JSON.stringify(snap);
    run(p, [cancel('c', 'acc', 'r'), tick(5_000), deposit('d2', 'acc', 1)], 3);
    t.equal(JSON.stringify(snap), taken, 'a snapshot written out later still says what it was taken at');

    // Restored straight from the object (no serialization): the two ledgers share nothing.
    const q = new PartitionLedger(0, DAY);
    run(q, [deposit('d', 'acc', 100), request('r', 'acc', 60)]);
    const qs = q.snapshot(2);
    const q2 = restore(q, qs, DAY);
    apply(q2, cancel('c', 'acc', 'r'), 2);
    t.equal(apply(q, request('r', 'acc', 60), 3).outcome?.status, 'approved', 'the original is not affected by its copy');
  });

  t.test('restore carries the lapse schedule', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [deposit('d', 'acc', 100), request('r', 'acc', 60, { expiresAt: 3_000 })]);
    const r = restore(p, JSON.parse(JSON.stringify(p.snapshot(2))) as PartitionSnapshot, DAY);
    t.strictSame(apply(r, tick(3_000), 2).docs.map((d) => d._id), ['0:2:0:r~expired']);
  });

  t.test('an empty partition', async (t) => {
    const p = new PartitionLedger(1, DAY);
    const s = p.snapshot(0);
    const filter = new IdFilter(DAY).serialize().toString('base64');
    t.strictSame(JSON.parse(JSON.stringify(s)), { partition: 1, offset: 0, clock: 0, accounts: [], filter, ids: [] });
    const r = restore(p, s, DAY);
    t.equal(r.size, 0);
    t.strictSame(apply(r, tick(1_000), 0), { docs: [], touched: [], changed: [], minted: [] });
  });
});

t.test('account and transaction ids that are special words in JavaScript', async (t) => {
  const p = new PartitionLedger(0, DAY);
  run(p, [
    deposit('__proto__', '__proto__', 10),
    deposit('constructor', 'constructor', 20),
    request('toString', '__proto__', 5),
    deposit('__proto__', '__proto__', 10),
  ]);
  t.strictSame([p.account('__proto__')?.balance, p.account('__proto__')?.reserved], [10, 5]);
  t.equal(p.account('constructor')?.balance, 20);
  t.equal(p.account('hasOwnProperty'), undefined);
  t.equal(({} as { polluted?: unknown }).polluted, undefined);
  const r = restore(p, JSON.parse(JSON.stringify(p.snapshot(4))) as PartitionSnapshot, DAY);
  t.equal(r.account('__proto__')?.balance, 10);
  t.equal(apply(r, deposit('__proto__', '__proto__', 10), 4).outcome?.replayed, true);
});

t.test('once memory has let go of decisions, a repeat must come with its lookup: the partition never guesses', async (t) => {
  const p = new PartitionLedger(0, DAY);
  p.apply(deposit('d', 'acc', 10), 0);
  t.equal(p.apply(deposit('d', 'acc', 10), 1).outcome?.replayed, true, 'held in memory: no lookup needed');
  p.durableBefore(1);
  t.throws(() => p.apply(deposit('d', 'acc', 10), 2), /acc\/d may be in the ledger and was not looked up/, 'let go of: refused without a lookup');
  const restored = PartitionLedger.restore(p.snapshot(2), DAY);
  t.throws(() => restored.apply(deposit('d', 'acc', 10), 2), /not looked up/, 'restored: the same');
  t.equal(restored.apply(deposit('new', 'acc', 10), 2).outcome?.status, 'applied', 'an id the filter does not hold needs none');
});

// The partition state machine: idempotency by id, the id window, documents
// and their _ids, accounts that come into being only with a change.
import t from 'tap';
import { PartitionLedger, type PartitionSnapshot, type Step } from '../../consumer/partition.js';
import type { LogMessage } from '../../common/types.js';
import { apply, DAY, restore, run, state } from '../helpers/partition-harness.js';
import { cancel, deposit, request, tick, withdraw } from '../helpers/tx.js';

t.test('the original exercise, on one partition', async (t) => {
  const p = new PartitionLedger(5, 7 * DAY);
  const bal = () => p.account('acc')?.balance;
  const res = () => p.account('acc')?.reserved;

  let s = apply(p, deposit('t1', 'acc', 100), 0);
  t.equal(s.outcome?.status, 'applied');
  t.equal(bal(), 100);

  s = apply(p, request('t2', 'acc', 50), 1);
  t.equal(s.outcome?.status, 'approved');
  t.strictSame([s.outcome?.balance, s.outcome?.reserved], [100, 50]);

  s = apply(p, request('t3', 'acc', 51), 2);
  t.equal(s.outcome?.status, 'denied');
  t.equal(s.outcome?.reason, 'insufficient_funds');
  t.equal(bal(), 100, 'balance 100');

  s = apply(p, withdraw('t4', 'acc', 50), 3);
  t.equal(s.outcome?.status, 'applied');
  t.strictSame([bal(), res()], [50, 0], 'balance 50, reserved 0');

  s = apply(p, withdraw('t5', 'acc', 50), 4);
  t.equal(s.outcome?.status, 'applied');
  t.equal(bal(), 0);
  t.notOk(s.outcome?.overdraft);

  s = apply(p, withdraw('t6', 'acc', 100), 5);
  t.equal(s.outcome?.status, 'applied', 'posts all the same');
  t.equal(bal(), -100);
  t.equal(s.outcome?.overdraft, true);
  t.equal(s.docs[0]?.overdraft, true);
  t.strictSame(s.touched, ['acc']);

  t.equal(p.account('unknown'), undefined, 'an unknown account is not there (balance 0 for the api)');
  t.equal(p.size, 1);
  t.strictSame([...p.accountIds()], ['acc']);
});

t.test('each decided message gives one doc with its partition and offset, _id "<partition>:<offset>"', async (t) => {
  const p = new PartitionLedger(9, DAY);
  const steps = run(p, [deposit('a', 'x', 5), request('b', 'x', 5), cancel('c', 'x', 'b')], 100);
  t.strictSame(
    steps.map((s) => s.docs.map((d) => [d._id, d.id, d.partition, d.offset])),
    [[['9:100', 'a', 9, 100]], [['9:101', 'b', 9, 101]], [['9:102', 'c', 9, 102]]],
  );
});

t.test('same id, same body: the first outcome, replayed, no doc, no state change', async (t) => {
  const p = new PartitionLedger(0, DAY);
  run(p, [deposit('d', 'acc', 100), request('r', 'acc', 60)]);
  const first = apply(p, withdraw('w', 'acc', 30, { receivedAt: 2_000 }), 2);
  const before = state(p);
  // A retry travels with new transport fields: another receivedAt (same clock here) and replyTo.
  const again = apply(p, withdraw('w', 'acc', 30, { receivedAt: 2_000, replyTo: 'api-2' }), 3);
  t.strictSame(again.outcome, { ...first.outcome, replayed: true });
  t.strictSame(again.docs, []);
  t.strictSame(again.touched, []);
  t.strictSame(state(p), before);
  t.equal(first.outcome?.replayed, undefined, 'the first answer is not marked replayed');

  const r = apply(p, request('r', 'acc', 60, { receivedAt: 2_000, expiresAt: 123_456 }), 4);
  t.equal(r.outcome?.status, 'approved', 'a request retried with another expiresAt is the same body');
  t.equal(r.outcome?.replayed, true);
  t.strictSame(state(p), before);
});

t.test('a deposit retried is applied once', async (t) => {
  const p = new PartitionLedger(0, DAY);
  const steps = run(p, [deposit('d', 'acc', 100), deposit('d', 'acc', 100), deposit('d', 'acc', 100)]);
  t.equal(p.account('acc')?.balance, 100);
  t.strictSame(steps.map((s) => s.docs.length), [1, 0, 0]);
  t.strictSame(steps.map((s) => s.outcome?.balance), [100, 100, 100]);
});

t.test('same id, another body: conflict id_reused, nothing changes', async (t) => {
  const p = new PartitionLedger(0, DAY);
  const first = run(p, [deposit('d', 'acc', 100), request('r', 'acc', 40), withdraw('w', 'acc', 10, { requestId: 'r' })]);
  const before = state(p);
  const variants: [string, LogMessage][] = [
    ['amount', deposit('d', 'acc', 101)],
    ['type', withdraw('d', 'acc', 100)],
    ['requestId added', withdraw('r', 'acc', 40, { requestId: 'x' })],
    ['requestId changed', withdraw('w', 'acc', 10, { requestId: 'other' })],
    ['requestId dropped', withdraw('w', 'acc', 10)],
    ['cancel of another', cancel('w', 'acc', 'r')],
  ];
  let offset = 3;
  for (const [what, msg] of variants) {
    const s = apply(p, msg, offset++);
    t.equal(s.outcome?.status, 'conflict', what);
    t.equal(s.outcome?.reason, 'id_reused', what);
    t.equal(s.outcome?.balance, 90, `${what}: the current balance`);
    t.strictSame(s.docs, [], what);
    t.strictSame(s.touched, [], what);
    t.strictSame(state(p), before, `${what}: state unchanged`);
  }
  const again = apply(p, deposit('d', 'acc', 100), offset++);
  t.strictSame(again.outcome, { ...first[0]!.outcome, replayed: true }, 'the id still answers its first outcome');
});

t.test("a request's time to live is part of its body", async (t) => {
  const p = new PartitionLedger(0, DAY);
  run(p, [deposit('d', 'acc', 100), request('r', 'acc', 40, { expiresInSeconds: 60, expiresAt: 61_000 })]);
  const before = state(p);
  const other = apply(p, request('r', 'acc', 40, { expiresInSeconds: 61, expiresAt: 62_000 }), 2);
  t.match(other.outcome, { status: 'conflict', reason: 'id_reused' }, 'another time to live: conflict');
  t.strictSame(state(p), before, 'nothing changed');
  const same = apply(p, request('r', 'acc', 40, { expiresInSeconds: 60, expiresAt: 99_000, receivedAt: 2_000 }), 3);
  t.match(same.outcome, { status: 'approved', replayed: true, expiresInSeconds: 60 }, 'the same time to live, sent later: a replay');

  // Decided before the time to live was part of the body: its document, read back after a restore, has none.
  const old = new PartitionLedger(0, DAY);
  run(old, [deposit('d', 'acc', 100), request('r', 'acc', 40)]);
  const fromOld = apply(restore(old, state(old, 2), DAY), request('r', 'acc', 40, { expiresInSeconds: 61 }), 2);
  t.match(fromOld.outcome, { status: 'approved', replayed: true }, 'compared as before: a replay');
});

t.test('ids are per account: the same id on another account is another transaction', async (t) => {
  const p = new PartitionLedger(0, DAY);
  const [a, b] = run(p, [deposit('same', 'acc-a', 10), deposit('same', 'acc-b', 20)]);
  t.equal(b?.outcome?.replayed, undefined);
  t.strictSame([a?.docs[0]?._id, b?.docs[0]?._id], ['0:0', '0:1']);
  t.strictSame([p.account('acc-a')?.balance, p.account('acc-b')?.balance], [10, 20]);
});

t.test('ids are forgotten after the window, by the log clock', async (t) => {
  const p = new PartitionLedger(0, 1_000);
  apply(p, deposit('d', 'acc', 100, { receivedAt: 10_000 }), 0);

  let s = apply(p, deposit('d', 'acc', 100, { receivedAt: 11_000 }), 1);
  t.equal(s.outcome?.replayed, true, 'still remembered at exactly the window');
  t.equal(p.account('acc')?.balance, 100);

  s = apply(p, tick(11_001), 2);
  t.equal(s.outcome, undefined, 'a tick has no outcome');
  s = apply(p, deposit('d', 'acc', 100, { receivedAt: 5_000 }), 3);
  t.equal(s.outcome?.replayed, undefined, 'forgotten once the clock (moved by a tick) passed the window');
  t.equal(s.outcome?.status, 'applied');
  t.equal(p.account('acc')?.balance, 200, 'decided anew');
  t.equal(p.clock, 11_001, 'an old receivedAt does not move the clock back');
});

t.test('an id decided anew after the window gets a document the ledger can store', async (t) => {
  const p = new PartitionLedger(0, 1_000);
  const first = apply(p, deposit('d', 'acc', 100, { receivedAt: 0 }), 0);
  const again = apply(p, deposit('d', 'acc', 100, { receivedAt: 5_000 }), 1);
  t.equal(p.account('acc')?.balance, 200, 'applied again, as the window allows');
  t.not(again.docs[0]?._id, first.docs[0]?._id, 'its document has an _id of its own');
  t.strictSame([first.docs[0]?._id, again.docs[0]?._id], ['0:0', '0:1']);
  t.strictSame([first.docs[0]?.id, again.docs[0]?.id], ['d', 'd'], 'the same transaction id in both');
  // A request re-sent while its first hold is open: two holds with one id, lapsing into two
  // expire documents at the same offset.
  const q = new PartitionLedger(0, 1_000);
  apply(q, deposit('d', 'acc', 100, { receivedAt: 0 }), 0);
  apply(q, request('r', 'acc', 10, { receivedAt: 0, expiresAt: 9_000 }), 1);
  apply(q, request('r', 'acc', 10, { receivedAt: 2_000, expiresAt: 9_000 }), 2);
  const lapsed = apply(q, tick(9_000), 3).docs.map((d) => d._id);
  t.equal(lapsed.length, 2, 'both holds lapse');
  t.equal(new Set(lapsed).size, lapsed.length, `distinct _ids: ${lapsed.join(', ')}`);
  t.strictSame(lapsed, ['0:3:0:r~expired', '0:3:1:r~expired']);
  t.equal(q.account('acc')?.reserved, 0);
});

t.test('holds with one id on two accounts lapsing at one offset get distinct _ids', async (t) => {
  const p = new PartitionLedger(4, DAY);
  run(p, [
    deposit('d1', 'a', 10),
    deposit('d2', 'b', 10),
    request('r', 'a', 5, { expiresAt: 3_000 }),
    request('r', 'b', 5, { expiresAt: 3_000 }),
  ]);
  const s = apply(p, deposit('x', 'c', 1, { receivedAt: 3_000 }), 4);
  t.strictSame(
    s.docs.map((d) => [d._id, d.accountId, d.id]),
    [
      ['4:4:0:r~expired', 'a', 'r~expired'],
      ['4:4:1:r~expired', 'b', 'r~expired'],
      ['4:4', 'c', 'x'],
    ],
  );
});

t.test('redelivery recomputes the same _ids (duplicates the ledger ignores)', async (t) => {
  const log: LogMessage[] = [
    deposit('d', 'acc', 100, { receivedAt: 0 }),
    request('r', 'acc', 10, { receivedAt: 0, expiresAt: 9_000 }),
    request('r', 'acc', 10, { receivedAt: 2_000, expiresAt: 9_000 }),
    deposit('d', 'acc', 100, { receivedAt: 5_000 }),
    tick(9_000),
  ];
  const ids = (steps: Step[]) => steps.flatMap((s) => s.docs.map((d) => d._id));
  const p = new PartitionLedger(2, 1_000);
  const first = ids(run(p, log));
  t.strictSame(first, ['2:0', '2:1', '2:2', '2:3', '2:4:0:r~expired', '2:4:1:r~expired']);
  t.strictSame(ids(run(new PartitionLedger(2, 1_000), log)), first, 'from scratch');
  const q = new PartitionLedger(2, 1_000);
  run(q, log.slice(0, 2));
  const r = restore(q, JSON.parse(JSON.stringify(q.snapshot(2))) as PartitionSnapshot, 1_000);
  t.strictSame(ids(run(r, log.slice(2), 2)), first.slice(2), 'from a snapshot');
});

t.test('no account comes into being without a change', async (t) => {
  t.test('a denied request on an unknown account: decided and documented, no account', async (t) => {
    const p = new PartitionLedger(1, DAY);
    const s = apply(p, request('r', 'ghost', 10, { receivedAt: 1_000 }), 0);
    t.equal(s.outcome?.status, 'denied');
    t.equal(s.outcome?.reason, 'insufficient_funds');
    t.strictSame([s.outcome?.balance, s.outcome?.reserved], [0, 0]);
    t.strictSame(
      s.docs.map((d) => [d._id, d.id, d.accountId, d.status, d.balanceAfter, d.reservedAfter]),
      [['1:0', 'r', 'ghost', 'denied', 0, 0]],
      'the decision is in the ledger',
    );
    t.strictSame(s.touched, [], 'nothing for the read model');
    t.equal(p.account('ghost'), undefined);
    t.equal(p.size, 0);
    t.strictSame([...p.accountIds()], []);
    t.strictSame(
      [...p.outcomes()].map((o) => [o.id, o.status]),
      [['r', 'denied']],
      'the outcome is remembered for lookups',
    );
    const again = apply(p, request('r', 'ghost', 10, { receivedAt: 1_100 }), 1);
    t.strictSame(again.outcome, { ...s.outcome, replayed: true }, 'a repeat answers the first outcome');
    t.strictSame([again.docs, again.touched], [[], []]);
    const other = apply(p, deposit('r', 'ghost', 10, { receivedAt: 1_200 }), 2);
    t.equal(other.outcome?.status, 'conflict', 'another body under the id is a conflict');
    t.strictSame([other.outcome?.balance, other.outcome?.reserved], [0, 0]);
    t.equal(p.account('ghost'), undefined, 'a conflict creates nothing either');
  });
  t.test('a cancel that finds no hold on an unknown account: not_found, no account', async (t) => {
    const p = new PartitionLedger(0, DAY);
    const s = apply(p, cancel('c', 'ghost', 'r'), 0);
    t.equal(s.outcome?.status, 'not_found');
    t.strictSame(s.docs.map((d) => [d._id, d.type, d.status]), [['0:0', 'cancel', 'not_found']]);
    t.strictSame(s.touched, []);
    t.equal(p.account('ghost'), undefined);
  });
  t.test('a deposit creates the account; so does a withdrawal, which changes the balance', async (t) => {
    const p = new PartitionLedger(0, DAY);
    const [, d] = run(p, [request('r', 'acc', 10), deposit('d', 'acc', 10)]);
    t.strictSame(d?.touched, ['acc']);
    t.strictSame(p.account('acc'), { balance: 10, reserved: 0, updatedAt: 1_000, holds: [] });
    const w = apply(p, withdraw('w', 'neg', 5), 2);
    t.strictSame(w.touched, ['neg']);
    t.equal(p.account('neg')?.balance, -5);
    t.equal(w.outcome?.overdraft, true);
  });
  t.test('an existing account brought back to zero stays, and so do its later decisions', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [deposit('d', 'acc', 10), withdraw('w', 'acc', 10)]);
    t.strictSame([p.account('acc')?.balance, p.account('acc')?.reserved], [0, 0]);
    const s = apply(p, request('r', 'acc', 1, { receivedAt: 2_000 }), 2);
    t.equal(s.outcome?.status, 'denied');
    t.strictSame(s.touched, ['acc'], 'an existing account is written with every decision');
    t.equal(p.account('acc')?.updatedAt, 2_000);
    t.equal(p.size, 1);
  });
  t.test('snapshots and restores carry no empty accounts', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [request('r', 'ghost', 10), cancel('c', 'ghost2', 'r'), deposit('d', 'acc', 1)]);
    const snap = JSON.parse(JSON.stringify(p.snapshot(3))) as PartitionSnapshot;
    t.strictSame(snap.accounts.map(([id]) => id), ['acc']);
    const r = restore(p, snap, DAY);
    t.equal(r.account('ghost'), undefined);
    // Its decisions are remembered all the same, read back from the ledger.
    t.equal(apply(r, request('r', 'ghost', 10), 3).outcome?.replayed, true);
    t.equal(apply(r, cancel('c', 'ghost2', 'r'), 4).outcome?.replayed, true);
  });
});

t.test('the window keeps younger ids while older ones go', async (t) => {
  const p = new PartitionLedger(0, 1_000);
  run(p, [deposit('old', 'acc', 1, { receivedAt: 1_000 }), deposit('young', 'acc', 2, { receivedAt: 1_800 })]);
  const [o, y] = run(p, [deposit('old', 'acc', 1, { receivedAt: 2_500 }), deposit('young', 'acc', 2, { receivedAt: 2_500 })], 2);
  t.equal(o?.outcome?.replayed, undefined, 'old: forgotten');
  t.equal(y?.outcome?.replayed, true, 'young: remembered');
  t.equal(p.account('acc')?.balance, 4);
});

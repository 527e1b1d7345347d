// The partition state machine: idempotency by id, the id window, holds lapsing
// by the log clock, cancel and expiry as seen by repeats, snapshots.
import t from 'tap';
import { IdFilter } from '../../consumer/id-filter.js';
import { PartitionLedger, type PartitionSnapshot, type Step } from '../../consumer/partition.js';
import type { LogMessage } from '../../common/types.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { cancel, deposit, request, tick, withdraw } from '../helpers/tx.js';

const DAY = 86_400_000;

/** Each partition's ledger documents, as the database holds them: a restored partition reads those it came from. */
const databases = new WeakMap<PartitionLedger, MemoryLedger>();

function databaseOf(p: PartitionLedger): MemoryLedger {
  let db = databases.get(p);
  if (!db) databases.set(p, (db = new MemoryLedger()));
  return db;
}

/** Applies one message as the batch path does (looking up what memory let go of), and inserts its documents. */
function apply(p: PartitionLedger, msg: LogMessage, offset: number): Step {
  return databaseOf(p).apply(p, msg, offset);
}

/** `PartitionLedger.restore`, reading the ledger documents `from` wrote. */
function restore(from: PartitionLedger, s: PartitionSnapshot, windowMs: number): PartitionLedger {
  const restored = PartitionLedger.restore(s, windowMs);
  databases.set(restored, databaseOf(from));
  return restored;
}

/** Applies messages at consecutive offsets from `from`. */
function run(p: PartitionLedger, msgs: LogMessage[], from = 0): Step[] {
  return msgs.map((m, i) => apply(p, m, from + i));
}

/** The state a snapshot holds, as it would be stored (JSON round trip). */
function state(p: PartitionLedger, offset = 0): PartitionSnapshot {
  return JSON.parse(JSON.stringify(p.snapshot(offset))) as PartitionSnapshot;
}

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

t.test('holds lapse by the log clock', async (t) => {
  t.test('a later message on another account lapses the hold, before its own decision', async (t) => {
    const p = new PartitionLedger(2, DAY);
    run(p, [deposit('d', 'acc', 100), request('r', 'acc', 100, { expiresAt: 5_000 })]);
    let s = apply(p, deposit('x', 'other', 1, { receivedAt: 4_999 }), 2);
    t.strictSame(s.docs.map((d) => d.type), ['deposit'], 'not yet due');
    t.equal(p.account('acc')?.reserved, 100);

    s = apply(p, deposit('y', 'other', 1, { receivedAt: 5_000 }), 3);
    t.strictSame(s.docs.map((d) => d._id), ['2:3:0:r~expired', '2:3'], 'expire first, then the decision');
    t.strictSame(s.docs[0], {
      _id: '2:3:0:r~expired',
      id: 'r~expired',
      accountId: 'acc',
      type: 'expire',
      amount: 100,
      requestId: 'r',
      status: 'applied',
      balanceAfter: 100,
      reservedAfter: 0,
      partition: 2,
      offset: 3,
      receivedAt: 5_000,
    });
    t.strictSame(s.touched, ['acc', 'other']);
    t.strictSame(
      s.changed.map((o) => [o.id, o.accountId, o.status, o.amount]),
      [['r', 'acc', 'expired', 100]],
      'the request remembered as expired',
    );
    t.strictSame(p.account('acc'), { balance: 100, reserved: 0, updatedAt: 5_000, holds: [] });

    s = apply(p, request('r', 'acc', 100), 4);
    t.equal(s.outcome?.status, 'expired', 'the request repeated answers expired');
    t.equal(s.outcome?.replayed, true);
    t.strictSame(s.docs, []);

    s = apply(p, withdraw('w', 'acc', 100, { requestId: 'r', receivedAt: 6_000 }), 5);
    t.equal(s.outcome?.reason, 'request_not_held', 'a capture after the lapse settles nothing');
    t.equal(p.account('acc')?.balance, 0);
  });
  t.test('a tick lapses it on a quiet partition', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [deposit('d', 'acc', 100), request('r', 'acc', 30, { expiresAt: 5_000 }), request('q', 'acc', 20, { expiresAt: 9_000 })]);
    let s = apply(p, tick(4_000), 3);
    t.strictSame(s.docs, []);
    s = apply(p, tick(6_000), 4);
    t.equal(s.outcome, undefined);
    t.strictSame(s.docs.map((d) => [d.type, d.requestId, d.amount, d.reservedAfter, d.offset]), [['expire', 'r', 30, 20, 4]]);
    t.strictSame(s.touched, ['acc']);
    t.equal(p.account('acc')?.reserved, 20);
    s = apply(p, tick(9_000), 5);
    t.strictSame(s.docs.map((d) => d.requestId), ['q']);
    t.equal(p.account('acc')?.reserved, 0);
  });
  t.test('the lapse frees funds for the message that triggered it', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [deposit('d', 'acc', 100), request('r1', 'acc', 100, { expiresAt: 5_000 })]);
    const s = apply(p, request('r2', 'acc', 100, { receivedAt: 5_000 }), 2);
    t.equal(s.outcome?.status, 'approved');
    t.strictSame(s.docs.map((d) => d.type), ['expire', 'withdraw_request']);
  });
  t.test('a hold without expiresAt never lapses', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [deposit('d', 'acc', 100), request('r', 'acc', 30)]);
    t.strictSame(apply(p, tick(Number.MAX_SAFE_INTEGER - 1), 2).docs, []);
    t.equal(p.account('acc')?.reserved, 30);
  });
  t.test('a hold partly consumed lapses with what is left; one settled by capture does not lapse', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [
      deposit('d', 'acc', 100),
      request('a', 'acc', 30, { expiresAt: 5_000 }),
      request('b', 'acc', 30, { expiresAt: 5_000 }),
      withdraw('w', 'acc', 10),
      withdraw('wb', 'acc', 30, { requestId: 'b' }),
    ]);
    const s = apply(p, tick(5_000), 5);
    t.strictSame(s.docs.map((d) => [d.requestId, d.amount]), [['a', 20]]);
    t.strictSame(s.changed.map((o) => [o.id, o.status]), [['a', 'expired']]);
    t.equal(apply(p, request('b', 'acc', 30), 6).outcome?.status, 'approved', 'settled, not expired');
  });
  t.test('a stale cancel or capture of a lapsed hold changes nothing', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [deposit('d', 'acc', 100), request('r', 'acc', 30, { expiresAt: 5_000 }), tick(5_000)]);
    const s = apply(p, cancel('c', 'acc', 'r', { receivedAt: 5_000 }), 3);
    t.equal(s.outcome?.status, 'not_found');
    t.strictSame(s.changed, []);
    t.strictSame(p.account('acc'), { balance: 100, reserved: 0, updatedAt: 5_000, holds: [] });
    t.equal(apply(p, request('r', 'acc', 30), 4).outcome?.status, 'expired', 'still expired, not cancelled');
  });
});

t.test('cancel', async (t) => {
  t.test('then the request repeated answers cancelled', async (t) => {
    const p = new PartitionLedger(0, DAY);
    const [, req] = run(p, [deposit('d', 'acc', 100), request('r', 'acc', 60)]);
    const c = apply(p, cancel('c', 'acc', 'r'), 2);
    t.equal(c.outcome?.status, 'applied');
    t.strictSame(c.changed, [{ ...req!.outcome, status: 'cancelled' }], 'the request remembered as cancelled');
    t.strictSame([p.account('acc')?.balance, p.account('acc')?.reserved], [100, 0]);
    const again = apply(p, request('r', 'acc', 60), 3);
    t.strictSame(again.outcome, { ...req!.outcome, status: 'cancelled', replayed: true });
    t.strictSame(again.docs, []);
    t.equal(req!.outcome?.status, 'approved', 'the outcome handed out first is not rewritten');

    const c2 = apply(p, cancel('c', 'acc', 'r'), 4);
    t.equal(c2.outcome?.status, 'applied', 'the cancel repeated answers its first outcome');
    t.equal(c2.outcome?.replayed, true);
    t.strictSame(c2.changed, [], 'a repeat changes nothing');
    t.equal(apply(p, cancel('c-bis', 'acc', 'r'), 5).outcome?.status, 'not_found', 'a second cancel finds nothing');
    t.equal(apply(p, withdraw('w', 'acc', 10, { requestId: 'r' }), 6).outcome?.reason, 'request_not_held');
  });
  t.test('of a denied request: not_found, the request still answers denied', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [deposit('d', 'acc', 10), request('r', 'acc', 60)]);
    const c = apply(p, cancel('c', 'acc', 'r'), 2);
    t.equal(c.outcome?.status, 'not_found');
    t.strictSame(c.changed, []);
    t.equal(apply(p, request('r', 'acc', 60), 3).outcome?.status, 'denied');
  });
  t.test('of a request settled by a capture: not_found, the request still answers approved', async (t) => {
    const p = new PartitionLedger(0, DAY);
    run(p, [deposit('d', 'acc', 100), request('r', 'acc', 60), withdraw('w', 'acc', 60, { requestId: 'r' })]);
    t.equal(apply(p, cancel('c', 'acc', 'r'), 3).outcome?.status, 'not_found');
    t.equal(apply(p, request('r', 'acc', 60), 4).outcome?.status, 'approved');
    t.strictSame([p.account('acc')?.balance, p.account('acc')?.reserved], [40, 0]);
  });
});

t.test('outcomes(): every decision held in memory and in the window, first-seen order, as repeats would answer', async (t) => {
  const p = new PartitionLedger(0, 1_000);
  run(p, [
    deposit('d', 'acc', 100, { receivedAt: 1_000 }),
    request('r', 'acc', 60, { receivedAt: 1_500, expiresAt: 2_400 }),
    request('q', 'acc', 40, { receivedAt: 1_600 }),
    cancel('c', 'acc', 'q', { receivedAt: 1_700 }),
    deposit('d', 'acc', 100, { receivedAt: 1_800 }),
    tick(2_400),
  ]);
  t.strictSame(
    [...p.outcomes()].map((o) => [o.id, o.status, o.replayed]),
    [['r', 'expired', undefined], ['q', 'cancelled', undefined], ['c', 'applied', undefined]],
    'd forgotten by the window; r expired, q cancelled; no replayed marks',
  );
  p.durableBefore(5);
  t.strictSame(
    [...p.outcomes()].map((o) => [o.id, o.status]),
    [['r', 'expired']],
    'once the ledger holds the documents before offset 5, memory keeps only the lapse at 5',
  );
  t.equal(apply(p, request('q', 'acc', 40, { receivedAt: 2_400 }), 6).outcome?.status, 'cancelled', 'read back from the ledger, cancelled');
});

t.test('the clock never goes backwards', async (t) => {
  const p = new PartitionLedger(0, DAY);
  run(p, [deposit('d', 'acc', 100, { receivedAt: 10_000 }), request('r', 'acc', 50, { receivedAt: 10_000, expiresAt: 12_000 })]);
  let s = apply(p, deposit('late', 'acc', 1, { receivedAt: 9_000 }), 2);
  t.equal(p.clock, 10_000);
  t.equal(s.outcome?.decidedAt, 10_000, 'decided at the log clock');
  t.equal(s.docs[0]?.receivedAt, 9_000, 'the doc keeps the message own receivedAt');
  t.equal(p.account('acc')?.updatedAt, 10_000);

  s = apply(p, deposit('jump', 'acc', 1, { receivedAt: 12_500 }), 3);
  t.strictSame(s.docs.map((d) => d.type), ['expire', 'deposit']);
  s = apply(p, request('r2', 'acc', 10, { receivedAt: 11_000, expiresAt: 12_400 }), 4);
  t.equal(p.clock, 12_500);
  t.equal(s.outcome?.decidedAt, 12_500);
  // Approved although already due by the log clock: it lapses at the next message.
  t.equal(s.outcome?.status, 'approved');
  s = apply(p, tick(1), 5);
  t.equal(p.clock, 12_500, 'an old tick does not move the clock back either');
  t.strictSame(s.docs.map((d) => d.requestId), ['r2']);
});

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
    t.strictSame(apply(r, tick(1_000), 0), { docs: [], touched: [], changed: [] });
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

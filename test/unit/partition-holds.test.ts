// The partition state machine: holds lapsing by the log clock, cancel and
// expiry as seen by repeats, the outcomes held in memory, the clock.
import t from 'tap';
import { PartitionLedger } from '../../consumer/partition.js';
import { apply, DAY, run, state } from '../helpers/partition-harness.js';
import { cancel, deposit, request, tick, withdraw } from '../helpers/tx.js';

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
      decidedAt: 5_000,
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

// Reversals through a partition's state machine (consumer/partition-reversals.ts,
// docs/transfers.md Reversals): the original found as its repeats find it,
// its total reversed kept with its remembered outcome and answered by its
// repeats, the id window, the same answers once memory has let go and the
// total is read back from the ledger, and a reversed transfer credit's credit
// back fed into the log.
import t from 'tap';
import { PartitionLedger, type Step } from '../../consumer/partition.js';
import type { LogMessage } from '../../common/types.js';
import { applyDurably } from '../helpers/batched-log.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { apply, DAY } from '../helpers/partition-harness.js';
import { deposit, request, reversal, transfer, withdraw } from '../helpers/tx.js';

const summary = (s: Step) => [s.outcome?.status, s.outcome?.reason, s.outcome?.amount, s.outcome?.balance];

t.test('partial reversals add up on the original, whose repeats answer the total; never past it', async (t) => {
  const p = new PartitionLedger(1, DAY);
  apply(p, deposit('d1', 'acc', 100, { receivedAt: 1_000 }), 0);
  const first = apply(p, reversal('rv1', 'acc', 'd1', 30, { receivedAt: 2_000 }), 1);
  t.strictSame(summary(first), ['applied', undefined, 30, 70]);
  t.match(first.changed, [{ id: 'd1', type: 'deposit', status: 'applied', amount: 100, reversed: 30 }], "the original's outcome changed: stored and answered");
  t.match(apply(p, deposit('d1', 'acc', 100, { receivedAt: 2_500 }), 2).outcome, { status: 'applied', replayed: true, reversed: 30, balance: 100 }, 'a repeat of the deposit says how much was reversed');
  t.strictSame(summary(apply(p, reversal('rv2', 'acc', 'd1', 71, { receivedAt: 3_000 }), 3)), ['denied', 'exceeds_original', 71, 70]);
  const rest = apply(p, reversal('rv3', 'acc', 'd1', undefined, { receivedAt: 4_000 }), 4);
  t.strictSame(summary(rest), ['applied', undefined, 70, 0], 'without an amount: all that is left');
  t.match(rest.changed, [{ id: 'd1', reversed: 100 }]);
  t.strictSame(summary(apply(p, reversal('rv4', 'acc', 'd1', 1, { receivedAt: 5_000 }), 5)), ['denied', 'exceeds_original', 1, 0], 'nothing left');
  t.equal(p.account('acc')!.balance, 0);
});

t.test('a reversal is exactly once: a repeat replays it, another body is a conflict, and neither moves money', async (t) => {
  const p = new PartitionLedger(1, DAY);
  apply(p, withdraw('w1', 'acc', 40, { receivedAt: 1_000 }), 0);
  apply(p, reversal('rv', 'acc', 'w1', undefined, { receivedAt: 2_000 }), 1);
  t.equal(p.account('acc')!.balance, 0, 'the withdrawal undone');
  const again = apply(p, reversal('rv', 'acc', 'w1', undefined, { receivedAt: 3_000 }), 2);
  t.match(again.outcome, { status: 'applied', replayed: true, amount: 40, remainder: true });
  t.strictSame([again.docs, again.changed, again.minted], [[], [], []]);
  t.equal(apply(p, reversal('rv', 'acc', 'w1', 40, { receivedAt: 3_000 }), 3).outcome?.status, 'conflict', 'naming the amount it came to is another body');
  t.equal(apply(p, reversal('rv', 'acc', 'w1', 10, { receivedAt: 3_000 }), 4).outcome?.status, 'conflict');
  t.equal(p.account('acc')!.balance, 0);
});

t.test('the original must be remembered: past the id window it is not found', async (t) => {
  const p = new PartitionLedger(1, 10_000);
  apply(p, deposit('d1', 'acc', 100, { receivedAt: 1_000 }), 0);
  t.strictSame(summary(apply(p, reversal('rv1', 'acc', 'd1', 10, { receivedAt: 11_000 }), 1)), ['applied', undefined, 10, 90], 'at the edge of the window');
  t.strictSame(summary(apply(p, reversal('rv2', 'acc', 'd1', 10, { receivedAt: 11_001 }), 2)), ['not_found', 'original_not_found', 10, 90], 'past it');
  t.strictSame(summary(apply(p, reversal('rv3', 'acc', 'nothing', 10, { receivedAt: 11_002 }), 3)), ['not_found', 'original_not_found', 10, 90], 'never decided');
  t.strictSame(summary(apply(p, reversal('rv4', 'other', 'd1', 10, { receivedAt: 11_003 }), 4)), ['not_found', 'original_not_found', 10, 0], 'on another account: ids are per account');
  t.equal(p.account('other'), undefined, 'a reversal that finds nothing creates no account');
  apply(p, request('q1', 'acc', 10, { receivedAt: 11_004 }), 5);
  t.strictSame(summary(apply(p, reversal('rv5', 'acc', 'q1', undefined, { receivedAt: 11_005 }), 6)), ['not_found', 'not_reversible', 0, 90], 'a withdrawal request');
});

t.test('the same answers once memory has let go: the total is read back from the reversals in the ledger', async (t) => {
  const log: LogMessage[] = [
    deposit('d1', 'acc', 100, { receivedAt: 1_000 }),
    reversal('rv1', 'acc', 'd1', 30, { receivedAt: 2_000 }),
    reversal('rv2', 'acc', 'd1', 80, { receivedAt: 2_100 }),
    deposit('d1', 'acc', 100, { receivedAt: 2_200 }),
    reversal('rv3', 'acc', 'd1', 20, { receivedAt: 2_300 }),
    reversal('rv1', 'acc', 'd1', 30, { receivedAt: 2_400 }),
    reversal('rv4', 'acc', 'd1', undefined, { receivedAt: 2_500 }),
    deposit('d1', 'acc', 100, { receivedAt: 2_600 }),
    // The window forgets d1; used again, it is a new deposit whose reversals start from nothing.
    deposit('d1', 'acc', 60, { receivedAt: 20_000 }),
    reversal('rv5', 'acc', 'd1', undefined, { receivedAt: 20_100 }),
    deposit('d1', 'acc', 60, { receivedAt: 20_200 }),
  ];
  const inMemory = new PartitionLedger(1, 10_000);
  const steps = log.map((msg, offset) => inMemory.apply(msg, offset));
  const durable = new PartitionLedger(1, 10_000);
  const db = new MemoryLedger();
  const read = log.map((msg, offset) => applyDurably(durable, db, { msg, timestamp: 0 }, offset));
  t.strictSame(read, steps, 'every step alike, decided from the ledger');
  t.match(steps[3]!.outcome, { replayed: true, reversed: 30 });
  t.match(steps[7]!.outcome, { replayed: true, reversed: 100 });
  t.strictSame(summary(steps[6]!), ['applied', undefined, 50, 0], 'all that was left: 100 - 30 - 20');
  t.strictSame(summary(steps[9]!), ['applied', undefined, 60, 0], "the renewed id's own amount");
  t.match(steps[10]!.outcome, { replayed: true, amount: 60, reversed: 60 });
});

t.test("a transfer's credit reversed: the credit back is minted once, and applied where it lands", async (t) => {
  const p = new PartitionLedger(1, DAY);
  apply(p, deposit('d', 'from', 100, { receivedAt: 1_000 }), 0);
  const credit = apply(p, transfer('t1', 'from', 'to', 60, { receivedAt: 2_000 }), 1).minted[0]!;
  apply(p, credit, 2);
  const rv = reversal('rv', 'to', credit.id, undefined, { receivedAt: 3_000, reference: 'chargeback' });
  const s = apply(p, rv, 3);
  t.strictSame(summary(s), ['applied', undefined, 60, 0]);
  t.match(s.changed, [{ id: credit.id, type: 'transfer_credit', reversed: 60 }]);
  t.match(s.minted, [{ id: 'rv~credit~to~3000', type: 'transfer_credit', accountId: 'from', counterparty: 'to', transferId: 'rv', amount: 60, reference: 'chargeback' }]);
  t.strictSame(apply(p, { ...rv, receivedAt: 3_500 }, 4).minted, [], 'a repeat mints nothing');
  const back = apply(p, s.minted[0]!, 5);
  t.strictSame([back.outcome?.status, p.account('from')!.balance, p.account('to')!.balance], ['applied', 100, 0], 'the money is back with the sender');
  t.strictSame(summary(apply(p, reversal('rv2', 'from', 't1', undefined, { receivedAt: 4_000 }), 6)), ['not_found', 'not_reversible', 0, 100], 'the debit itself is not reversed: its credit is');
});

// Two-phase transfers through a partition's state machine (docs/transfers.md,
// Two-phase transfers): a post mints the credit, repeats of the pending
// transfer answer what became of it (from memory and from the ledger), a
// lapse expires it, and the hold's counterparty survives snapshots.
import t from 'tap';
import { PartitionLedger } from '../../consumer/partition.js';
import { mergeSnapshots } from '../../consumer/snapshot-merge.js';
import { decodeChunk, encodeChunk } from '../../consumer/snapshot-format.js';
import type { TxMessage } from '../../common/types.js';
import { apply, DAY, restore, state } from '../helpers/partition-harness.js';
import { deposit, pendingTransfer, tick, transferPost, transferVoid } from '../helpers/tx.js';

const balances = (p: PartitionLedger) => Object.fromEntries([...p.accountIds()].map((id) => [id, [p.account(id)!.balance, p.account(id)!.reserved]]));

function funded(): { p: PartitionLedger; pending: TxMessage } {
  const p = new PartitionLedger(2, DAY);
  apply(p, deposit('d', 'acc-a', 100, { receivedAt: 1_000 }), 0);
  const pending = pendingTransfer('tp1', 'acc-a', 'acc-b', 70, { receivedAt: 2_000, expiresAt: 50_000 });
  const s = apply(p, pending, 1);
  t.strictSame([s.outcome?.status, s.minted], ['approved', []], 'held, nothing minted');
  return { p, pending };
}

t.test('a post mints the credit; the credit fed back completes the transfer; repeats answer posted', async (t) => {
  const { p, pending } = funded();
  const post = apply(p, transferPost('po1', 'acc-a', 'tp1', 50, { receivedAt: 3_000, creditCallId: 'c.2', replyTo: 'api-1' }), 2);
  t.strictSame([post.outcome?.status, post.changed.map((o) => [o.id, o.status])], ['applied', [['tp1', 'posted']]]);
  t.strictSame(post.minted.map((m) => [m.id, m.accountId, m.amount, m.transferId, m.callId]), [['tp1~credit~acc-a~3000', 'acc-b', 50, 'tp1', 'c.2']]);
  t.strictSame(balances(p), { 'acc-a': [50, 0] }, 'the rest released, the money in flight');
  apply(p, post.minted[0]!, 3);
  t.strictSame(balances(p), { 'acc-a': [50, 0], 'acc-b': [50, 0] });
  const again = apply(p, { ...pending, receivedAt: 4_000 }, 4);
  t.strictSame([again.outcome?.status, again.outcome?.replayed, again.docs, again.minted], ['posted', true, [], []], 'a repeat of the transfer reads posted');
  const twice = apply(p, transferPost('po2', 'acc-a', 'tp1', undefined, { receivedAt: 4_000 }), 5);
  t.strictSame([twice.outcome?.status, twice.outcome?.reason, twice.minted], ['not_found', 'request_not_held', []], 'a second post finds no hold');
  const postAgain = apply(p, transferPost('po1', 'acc-a', 'tp1', 50, { receivedAt: 4_500 }), 6);
  t.strictSame([postAgain.outcome?.status, postAgain.outcome?.replayed, postAgain.outcome?.postedAmount, postAgain.minted], ['applied', true, 50, []], 'the post repeated: a replay, no second credit');
  p.durableBefore(7);
  const fromLedger = apply(p, { ...pending, receivedAt: 5_000 }, 7);
  t.strictSame([fromLedger.outcome?.status, fromLedger.outcome?.replayed], ['posted', true], 'read back from the ledger: posted');
  const postFromLedger = apply(p, transferPost('po1', 'acc-a', 'tp1', 50, { receivedAt: 5_000 }), 8);
  t.strictSame([postFromLedger.outcome?.status, postFromLedger.outcome?.replayed, postFromLedger.outcome?.postedAmount], ['applied', true, 50]);
});

t.test('a post that names no amount posts the whole hold; its repeat read back from the ledger is the same body', async (t) => {
  const { p } = funded();
  const post = transferPost('po1', 'acc-a', 'tp1', undefined, { receivedAt: 3_000 });
  const s = apply(p, post, 2);
  t.strictSame([s.outcome?.postedAmount, s.minted[0]?.amount], [70, 70]);
  p.durableBefore(3);
  const again = apply(p, { ...post, receivedAt: 4_000 }, 3);
  t.strictSame([again.outcome?.status, again.outcome?.replayed, again.outcome?.amount, again.outcome?.postedAmount], ['applied', true, undefined, 70]);
  t.equal(apply(p, { ...post, amount: 70, receivedAt: 4_000 }, 4).outcome?.status, 'conflict', 'naming the amount is another body');
});

t.test('a void releases the hold; the transfer then reads voided; a post after it finds nothing', async (t) => {
  const { p, pending } = funded();
  const v = apply(p, transferVoid('vo1', 'acc-a', 'tp1', { receivedAt: 3_000 }), 2);
  t.strictSame([v.outcome?.status, v.changed.map((o) => o.status), v.minted], ['applied', ['voided'], []]);
  t.strictSame(balances(p), { 'acc-a': [100, 0] });
  t.equal(apply(p, transferPost('po1', 'acc-a', 'tp1', undefined, { receivedAt: 3_500 }), 3).outcome?.status, 'not_found');
  p.durableBefore(4);
  t.equal(apply(p, { ...pending, receivedAt: 4_000 }, 4).outcome?.status, 'voided', 'from the ledger');
  t.equal(apply(p, transferVoid('vo2', 'acc-a', 'tp1', { receivedAt: 4_000 }), 5).outcome?.status, 'not_found', 'a second void finds nothing');
});

t.test('a pending transfer lapses by the log clock and then reads expired', async (t) => {
  const { p, pending } = funded();
  const lapse = apply(p, tick(50_000), 2);
  t.strictSame([lapse.docs.map((d) => [d.type, d.requestId]), lapse.changed.map((o) => [o.id, o.status])], [[['expire', 'tp1']], [['tp1', 'expired']]]);
  t.strictSame(balances(p), { 'acc-a': [100, 0] });
  t.equal(apply(p, { ...pending, receivedAt: 50_001 }, 3).outcome?.status, 'expired');
  p.durableBefore(4);
  t.equal(apply(p, { ...pending, receivedAt: 50_002 }, 4).outcome?.status, 'expired', 'from the ledger');
  t.equal(apply(p, transferPost('po', 'acc-a', 'tp1', undefined, { receivedAt: 50_003 }), 5).outcome?.status, 'not_found', 'a post after the lapse');
});

t.test("the hold's counterparty survives snapshots: whole, as a delta, through the chunk format, and decides after a restore", async (t) => {
  const { p } = funded();
  const whole = p.takeSnapshot(2, true);
  apply(p, pendingTransfer('tp2', 'acc-a', 'acc-c', 10, { receivedAt: 2_500, expiresAt: 60_000 }), 2);
  const delta = p.takeSnapshot(3, false);
  const holds = [
    { id: 'tp1', amount: 70, expiresAt: 50_000, counterparty: 'acc-b' },
    { id: 'tp2', amount: 10, expiresAt: 60_000, counterparty: 'acc-c' },
  ];
  const merged = mergeSnapshots([JSON.parse(JSON.stringify(whole)), JSON.parse(JSON.stringify(delta))], DAY);
  t.strictSame(Object.fromEntries(merged.accounts)['acc-a']?.holds, holds, 'a delta laid over the whole snapshot');
  const decoded = await decodeChunk(await encodeChunk(0, { accounts: p.snapshot(3).accounts, ids: [] }), 'chunk');
  t.strictSame(Object.fromEntries(decoded.accounts)['acc-a']?.holds, holds, 'through a stored chunk');
  const restored = restore(p, merged, DAY);
  t.strictSame(state(restored, 3).accounts, state(p, 3).accounts, 'the same state as the live partition');
  const post = apply(restored, transferPost('po', 'acc-a', 'tp2', undefined, { receivedAt: 3_000 }), 3);
  t.strictSame(post.minted.map((m) => [m.accountId, m.amount]), [['acc-c', 10]], 'the restored hold credits its counterparty');
  t.strictSame(restored.account('acc-a')?.holds, [holds[0]]);
  const requestOnly = JSON.parse(JSON.stringify(state(restored, 4))) as ReturnType<typeof state>;
  t.notOk(JSON.stringify(requestOnly).includes('"counterparty":null'), 'no counterparty written where there is none');
});

// Transfers and settings through a partition's state machine and its batch
// path: the legs it mints (none on a repeat, a conflict or a denial), a credit
// fed back into the log, accounts that settings create, and settings that
// survive snapshots.
import t from 'tap';
import { PartitionLedger } from '../../consumer/partition.js';
import { decideBatch, lookupsOf, parseRecords, type RawRecord } from '../../consumer/batch-decision.js';
import { mergeSnapshots } from '../../consumer/snapshot-merge.js';
import { decodeChunk, encodeChunk } from '../../consumer/snapshot-format.js';
import { encodeMessage } from '../../common/message.js';
import type { LogMessage, TxMessage } from '../../common/types.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { apply, DAY, state } from '../helpers/partition-harness.js';
import { deposit, settings, transfer } from '../helpers/tx.js';

const balances = (p: PartitionLedger) => Object.fromEntries([...p.accountIds()].map((id) => [id, p.account(id)!.balance]));

t.test('a transfer completes: the debit mints the credit, the credit fed back applies, repeats mint nothing', async (t) => {
  const p = new PartitionLedger(2, DAY);
  apply(p, deposit('d', 'acc-a', 100, { receivedAt: 1_000 }), 0);
  const debit = transfer('tr1', 'acc-a', 'acc-b', 70, { receivedAt: 2_000, reference: 'rent', creditCallId: 'c.2', replyTo: 'api-1' });
  const s = apply(p, debit, 1);
  t.equal(s.outcome?.status, 'applied');
  t.equal(s.minted.length, 1, 'one credit');
  const credit = s.minted[0]!;
  t.strictSame([credit.id, credit.accountId, credit.counterparty, credit.transferId, credit.amount, credit.reference, credit.callId], [
    'tr1~credit~acc-a~2000',
    'acc-b',
    'acc-a',
    'tr1',
    70,
    'rent',
    'c.2',
  ]);
  t.strictSame(balances(p), { 'acc-a': 30 }, 'in flight: only the debit so far');

  const c = apply(p, credit, 2);
  t.strictSame([c.outcome?.status, c.minted], ['applied', []], 'an applied credit mints nothing');
  t.strictSame(balances(p), { 'acc-a': 30, 'acc-b': 70 });

  const again = apply(p, { ...debit, receivedAt: 2_500, creditCallId: 'c.9' }, 3);
  t.strictSame([again.outcome?.status, again.outcome?.replayed, again.minted, again.docs], ['applied', true, [], []], 'a retry of the transfer: replayed, mints nothing');
  const other = apply(p, { ...debit, amount: 71 }, 4);
  t.strictSame([other.outcome?.status, other.minted], ['conflict', []], 'another body: a conflict, mints nothing');
  const republished = apply(p, credit, 5);
  t.strictSame([republished.outcome?.replayed, republished.minted], [true, []], 'the credit published again after a crash: a repeat');
  t.strictSame(balances(p), { 'acc-a': 30, 'acc-b': 70 }, 'nothing moved twice');
});

t.test('a denied debit mints nothing; a credit to a closed account is returned', async (t) => {
  const p = new PartitionLedger(2, DAY);
  const closed = apply(p, settings('s1', 'acc-b', { accountStatus: 'closed' }), 0);
  t.strictSame([closed.outcome?.status, closed.touched, p.account('acc-b')?.status], ['applied', ['acc-b'], 'closed'], 'closing an unknown account creates it, closed');
  t.strictSame(apply(p, transfer('tr0', 'acc-a', 'acc-b', 1), 1).minted, [], 'denied for want of funds: no credit');
  apply(p, deposit('d', 'acc-a', 100, { receivedAt: 3_000 }), 2);
  const credit = apply(p, transfer('tr1', 'acc-a', 'acc-b', 60, { receivedAt: 3_000, metadata: { k: 'v' } }), 3).minted[0]!;
  const refused = apply(p, credit, 4);
  t.strictSame([refused.outcome?.status, refused.outcome?.reason], ['denied', 'account_closed']);
  t.equal(refused.minted.length, 1, 'one return');
  const back = refused.minted[0]!;
  t.strictSame([back.id, back.type, back.accountId, back.counterparty, back.amount, back.metadata], ['tr1~return~3000', 'transfer_return', 'acc-a', 'acc-b', 60, { k: 'v' }]);
  t.strictSame(balances(p), { 'acc-b': 0, 'acc-a': 40 }, 'the money in flight');
  const returned = apply(p, back, 5);
  t.strictSame([returned.outcome?.status, returned.minted], ['applied', []], 'a return is applied and mints nothing');
  t.strictSame(balances(p), { 'acc-b': 0, 'acc-a': 100 }, 'all back');
  t.strictSame(apply(p, credit, 6).minted, [], 'the refused credit again: a repeat mints no second return');
});

t.test('a transfer to its own account takes the same path', async (t) => {
  const p = new PartitionLedger(2, DAY);
  apply(p, deposit('d', 'acc', 50), 0);
  const s = apply(p, transfer('self', 'acc', 'acc', 50), 1);
  t.equal(p.account('acc')?.balance, 0, 'debited first');
  apply(p, s.minted[0]!, 2);
  t.equal(p.account('acc')?.balance, 50, 'credited by the later message');
});

t.test('settings on an unknown account create it only when they leave the defaults', async (t) => {
  const p = new PartitionLedger(2, DAY);
  const defaults = apply(p, settings('s0', 'acc', { overdraftLimit: 0, accountStatus: 'open' }), 0);
  t.strictSame([defaults.outcome?.status, defaults.touched, p.account('acc'), defaults.docs.length], ['applied', [], undefined, 1], 'decided and documented, nothing created');
  const limit = apply(p, settings('s1', 'acc', { overdraftLimit: 25 }), 1);
  t.strictSame([limit.touched, p.account('acc')?.overdraftLimit], [['acc'], 25]);
  const approved = apply(p, transfer('tr', 'acc', 'other', 25), 2);
  t.strictSame([approved.outcome?.status, p.account('acc')?.balance], ['applied', -25], 'the limit is funds for a debit');
});

t.test('repeats read back from the ledger documents answer as from memory: settings, transfers, labels', async (t) => {
  const p = new PartitionLedger(2, DAY);
  const firsts = [
    deposit('d', 'acc-a', 100, { reference: 'r', metadata: { b: '2', a: '1' } }),
    settings('s', 'acc-a', { overdraftLimit: 30 }),
    settings('x', 'acc-b', { accountStatus: 'closed' }),
    transfer('tr', 'acc-a', 'acc-b', 10, { reference: 'q' }),
  ];
  const answers = firsts.map((m, i) => apply(p, m, i).outcome);
  firsts.forEach((m, i) => {
    // Every document is in the ledger and memory let go of them: the repeat is read back.
    p.durableBefore(firsts.length + i);
    const again = apply(p, { ...m, receivedAt: 3_000, metadata: m.metadata && { a: '1', b: '2' } }, firsts.length + i);
    t.strictSame(again.outcome, { ...answers[i], replayed: true }, `${m.type} ${m.id}: a replay, the first answer (metadata keys in another order)`);
    t.strictSame(again.minted, []);
  });
});

t.test('the batch path gathers the minted messages of the records it writes, in log order', async (t) => {
  const record = (offset: number, msg: LogMessage): RawRecord => ({ offset: String(offset), key: null, value: encodeMessage(msg) });
  const log: TxMessage[] = [
    deposit('d', 'acc-a', 100),
    transfer('tr1', 'acc-a', 'acc-b', 10, { receivedAt: 1_100 }),
    transfer('tr2', 'acc-a', 'acc-c', 20, { receivedAt: 1_200 }),
    transfer('tr3', 'acc-a', 'acc-c', 500, { receivedAt: 1_300 }),
  ];
  const decideFrom = (writtenBefore: number) => {
    const p = new PartitionLedger(2, DAY);
    const batch = parseRecords(log.map((m, i) => record(i, m)));
    return decideBatch(p, batch, writtenBefore, new MemoryLedger().lookUp(2, lookupsOf(p, batch)));
  };
  t.strictSame(decideFrom(0).minted.map((m) => m.id), ['tr1~credit~acc-a~1100', 'tr2~credit~acc-a~1200'], 'one credit an applied debit, none for the denied one');
  t.strictSame(decideFrom(2).minted.map((m) => m.id), ['tr2~credit~acc-a~1200'], 'records before writtenBefore were published by the owner that wrote them');
  t.strictSame(decideFrom(4).minted, []);
});

t.test('settings survive snapshots: whole, as a delta, and through the chunk format', async (t) => {
  const p = new PartitionLedger(2, DAY);
  apply(p, deposit('d', 'acc-a', 10), 0);
  apply(p, settings('s1', 'acc-a', { overdraftLimit: 40, accountStatus: 'frozen' }), 1);
  const whole = p.takeSnapshot(2, true);
  apply(p, settings('s2', 'acc-b', { accountStatus: 'closed' }), 2);
  apply(p, settings('s3', 'acc-a', { accountStatus: 'open' }), 3);
  const delta = p.takeSnapshot(4, false);
  const expected = { 'acc-a': { balance: 10, reserved: 0, updatedAt: 1_000, holds: [], overdraftLimit: 40 }, 'acc-b': { balance: 0, reserved: 0, updatedAt: 1_000, holds: [], status: 'closed' } };
  const merged = mergeSnapshots([JSON.parse(JSON.stringify(whole)), JSON.parse(JSON.stringify(delta))], DAY);
  t.strictSame(Object.fromEntries(merged.accounts), expected, 'a delta laid over the whole snapshot');
  const restored = PartitionLedger.restore(merged, DAY);
  t.strictSame(Object.fromEntries([...restored.accountIds()].map((id) => [id, restored.account(id)])), expected, 'restored');
  t.strictSame(state(restored, 4).accounts, state(p, 4).accounts, 'the same state as the live partition');
  const decoded = await decodeChunk(await encodeChunk(0, { accounts: p.snapshot(4).accounts, ids: [] }), 'chunk');
  t.strictSame(Object.fromEntries(decoded.accounts), expected, 'through a stored chunk');
  const frozenBack = PartitionLedger.restore(JSON.parse(JSON.stringify(whole)), DAY);
  t.strictSame(frozenBack.account('acc-a'), { balance: 10, reserved: 0, updatedAt: 1_000, holds: [], overdraftLimit: 40, status: 'frozen' });
  t.equal(apply(frozenBack, transfer('tr', 'acc-a', 'x', 1), 2).outcome?.reason, 'account_frozen', 'and the restored settings decide');
});

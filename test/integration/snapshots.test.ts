// The snapshot store on the real database: a chain of deltas over a whole
// snapshot loads as the whole state, an incomplete link makes the load fall
// back to an older complete chain, and pruning keeps every snapshot a kept
// one lies over; chunks are deflated, and older plain-text ones still load; a
// member standing by keeps the chain merged and reads only what is newer.
import t from 'tap';
import { MongoClient } from 'mongodb';
import { ledgerId } from '../../consumer/ledger.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { remember } from '../../common/remembered.js';
import { SnapshotStore, snapshotCollectionName } from '../../consumer/snapshots.js';
import type { TxMessage } from '../../common/types.js';
import { cancel, deposit, request } from '../helpers/tx.js';
import { readStack } from '../helpers/stack.js';

const DAY = 24 * 3600 * 1000;
const client = await MongoClient.connect(readStack().mongoUri);
const db = client.db(`teller_snapshots_test_${process.pid}`);
t.teardown(async () => {
  await db.dropDatabase().catch(() => undefined);
  await client.close();
});

const names = async (partition: number) =>
  (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith(`snapshot.p${partition}.`)).sort();

t.test('deltas over a whole snapshot load as the whole state', async (t) => {
  const store = new SnapshotStore(db, 2, DAY);
  const p = new PartitionLedger(1, DAY);
  let offset = 0;
  const step = (msgs: TxMessage[]) => msgs.forEach((m) => p.apply(m, offset++));
  step([deposit('d1', 'a', 100, { receivedAt: 1_000 }), request('r1', 'a', 30, { receivedAt: 1_001 }), deposit('d2', 'b', 5, { receivedAt: 1_002 })]);
  await store.save(p.takeSnapshot(offset, true));
  const whole = offset;
  step([deposit('d3', 'c', 7, { receivedAt: 1_003 }), request('r2', 'b', 9, { receivedAt: 1_004 })]);
  const delta1 = p.takeSnapshot(offset, false);
  t.same(delta1.ids, [['c/d3', 1_003], ['b/r2', 1_004]], 'a delta carries only the ids added since, with their times');
  await store.save(delta1, whole);
  const first = offset;
  step([deposit('d4', 'a', 1, { receivedAt: 1_005 })]);
  await store.save(p.takeSnapshot(offset, false), first);

  const loaded = await store.load(1);
  t.equal(loaded?.deltas, 2, 'two deltas over the whole one');
  const { deltas: _deltas, ...snapshot } = loaded!;
  t.strictSame(JSON.parse(JSON.stringify(snapshot)), JSON.parse(JSON.stringify(p.snapshot(offset))), 'the whole state at the newest offset');
  t.same(await names(1), [snapshotCollectionName(1, whole), snapshotCollectionName(1, first, whole), snapshotCollectionName(1, offset, first)].sort(), 'pruning kept what the newest two lie over');
});

t.test('a chain with a missing or incomplete link is skipped for an older complete one', async (t) => {
  const store = new SnapshotStore(db, 5, DAY);
  const p = new PartitionLedger(2, DAY);
  p.apply(deposit('d1', 'a', 100, { receivedAt: 1_000 }), 0);
  await store.save(p.takeSnapshot(1, true));
  p.apply(deposit('d2', 'a', 50, { receivedAt: 1_001 }), 1);
  // A delta over a snapshot that was never saved (its base is at offset 2, which does not exist).
  await store.save(p.takeSnapshot(2, false), 99);
  let loaded = await store.load(2);
  t.equal(loaded?.offset, 1, 'the delta without its base is not used');
  t.same(loaded?.accounts.find(([id]) => id === 'a')?.[1].balance, 100);

  // A newer whole snapshot whose meta document was never written (the writer died mid-save).
  await db.collection(snapshotCollectionName(2, 5)).insertOne({ _id: 0 as never, accounts: '[]', seen: '[]' });
  loaded = await store.load(2);
  t.equal(loaded?.offset, 1, 'an incomplete snapshot is not used');
});

t.test('pruning drops snapshots no kept chain needs', async (t) => {
  const store = new SnapshotStore(db, 1, DAY);
  const p = new PartitionLedger(3, DAY);
  let offset = 0;
  p.apply(deposit('d0', 'a', 1, { receivedAt: 1_000 }), offset++);
  await store.save(p.takeSnapshot(offset, true));
  const oldWhole = offset;
  p.apply(deposit('d1', 'a', 1, { receivedAt: 1_001 }), offset++);
  await store.save(p.takeSnapshot(offset, false), oldWhole);
  p.apply(deposit('d2', 'a', 1, { receivedAt: 1_002 }), offset++);
  await store.save(p.takeSnapshot(offset, true));
  t.same(await names(3), [snapshotCollectionName(3, offset)], 'a new whole snapshot with keep 1 needs nothing older');
  const loaded = await store.load(3);
  t.equal(loaded?.deltas, 0);
  t.equal(loaded?.filter, p.snapshot(offset).filter, 'the whole snapshot holds the filter of every id');
});

t.test('chunks are stored deflated, the filter as bytes, and chunks of plain JSON text still load', async (t) => {
  const store = new SnapshotStore(db, 5, DAY);
  const p = new PartitionLedger(4, DAY);
  for (let i = 0; i < 200; i++) p.apply(deposit(`d${i}`, `acct-${i % 7}`, 10 + i, { receivedAt: 1_000 + i }), i);
  const snapshot = p.snapshot(200);
  await store.save(snapshot);
  const [chunk] = await db.collection(snapshotCollectionName(4, 200)).find({ _id: 0 as never }).toArray();
  t.type(chunk?.accounts, 'Binary', 'the accounts are a binary field');
  t.ok(chunk!.accounts.length() < JSON.stringify(snapshot.accounts).length / 3, `deflated to ${chunk!.accounts.length()} of ${JSON.stringify(snapshot.accounts).length} bytes`);
  t.equal(chunk?.filter?.length(), Buffer.from(snapshot.filter!, 'base64').length, 'the filter, byte for byte');
  t.strictSame(JSON.parse(JSON.stringify(await store.load(4))), JSON.parse(JSON.stringify({ ...snapshot, deltas: 0 })), 'loads as saved');

  // A snapshot written before chunks were deflated, when they held each id's decision: at a newer offset.
  const seen = [...p.outcomes()].map((o) => [ledgerId(o.accountId, o.id), remember(o)]);
  const older = db.collection(snapshotCollectionName(4, 300));
  await older.insertOne({ _id: 0 as never, accounts: JSON.stringify(snapshot.accounts), seen: JSON.stringify(seen) });
  await older.insertOne({ _id: 'meta' as never, partition: 4, offset: 300, clock: snapshot.clock, chunks: 1 });
  const loaded = await store.load(4);
  t.equal(loaded?.offset, 300, 'the plain-text snapshot is the newest');
  t.equal(loaded?.filter, snapshot.filter, 'its ids load into the same filter');
  t.strictSame(loaded?.accounts, JSON.parse(JSON.stringify(snapshot.accounts)), 'its accounts load');
});

t.test('a member standing by keeps the chain warm: its takeover reads only newer snapshots and gets the same state', async (t) => {
  const store = new SnapshotStore(db, 50, DAY);
  const p = new PartitionLedger(5, DAY);
  let offset = 0;
  const step = (msgs: TxMessage[]) => msgs.forEach((m) => p.apply(m, offset++));
  step([deposit('d1', 'a', 100, { receivedAt: 1_000 }), request('r1', 'a', 30, { receivedAt: 1_001 })]);
  await store.save(p.takeSnapshot(offset, true));
  const whole = offset;
  step([deposit('d2', 'b', 5, { receivedAt: 1_002 })]);
  await store.save(p.takeSnapshot(offset, false), whole);
  let base = offset;

  const owner = new SnapshotStore(db, 50, DAY);
  owner.assigned([0, 5]);
  await owner.warm(5);
  t.same(owner.warmPartitions, [], 'a member owning partitions keeps nothing warm');

  const standby = new SnapshotStore(db, 50, DAY);
  standby.assigned([]);
  await standby.warm(5);
  t.same(standby.warmPartitions, [5], 'a member standing by keeps the partition warm');
  // More ids after the warm-up, and a request cancelled: the standby lays them into the filter it holds.
  step([deposit('d3', 'c', 7, { receivedAt: 1_003 }), cancel('c1', 'a', 'r1', { receivedAt: 1_004 })]);
  await store.save(p.takeSnapshot(offset, false), base);
  base = offset;
  await standby.warm(5);
  step([deposit('d4', 'a', 1, { receivedAt: 1_005 }), deposit('d5', 'd', 2, { receivedAt: 1_006 })]);
  await store.save(p.takeSnapshot(offset, false), base);

  // What the standby read already is gone: only the newest delta is left to read.
  for (const name of await names(5)) if (name !== snapshotCollectionName(5, offset, base)) await db.collection(name).drop();
  t.equal(await new SnapshotStore(db, 50, DAY).load(5), undefined, 'a cold reader finds no complete chain now');

  standby.assigned([5]);
  const loaded = await standby.load(5);
  t.equal(loaded?.offset, offset, 'the warm state plus the newest delta reach the newest offset');
  t.equal(loaded?.deltas, 3, 'three deltas over the whole snapshot, as a cold load would count');
  const { deltas: _deltas, ...snapshot } = loaded!;
  t.strictSame(JSON.parse(JSON.stringify(snapshot)), JSON.parse(JSON.stringify(p.snapshot(offset))), 'the whole state at the newest offset, the live filter with it');
  t.same(standby.warmPartitions, [], 'the warm copy is spent once loaded');
});

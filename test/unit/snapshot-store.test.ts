// The snapshot store against the snapshot contract (snapshot-format.test.ts):
// it writes the format into every document and loads each by its own; a
// filter larger than a document is saved in pieces; a delta is laid by its
// format (formats 3 and 5 carry the accounts changed, format 2 every account
// whole), and the remembered ids of formats 1 to 3 load into the filter the
// live state holds; a newer format is refused rather than skipped or guessed.
import t from 'tap';
import type { Binary } from 'mongodb';
import { IdFilter } from '../../consumer/id-filter.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { CHANGED_ACCOUNTS_FORMAT, encodeChunk, encodeMeta, SNAPSHOT_FORMAT, WHOLE_ACCOUNTS_FORMAT } from '../../consumer/snapshot-format.js';
import { SnapshotStore, snapshotCollectionName } from '../../consumer/snapshots.js';
import { TELLER_ERR_UNKNOWN_FORMAT as UNKNOWN_FORMAT } from '../../common/errors.js';
import { DAY, memoryDb, packedSeen, partition, saveInSeenFormat, unpackedSeen } from '../helpers/snapshot-fixtures.js';
import { deposit } from '../helpers/tx.js';

const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

t.test('the store writes the format into every document and loads by it', async (t) => {
  const { db, collections } = memoryDb();
  const store = new SnapshotStore(db, 5, DAY);
  const snapshot = partition().snapshot(4);
  await store.save(snapshot);
  const docs = [...collections.get(snapshotCollectionName(0, 4))!.values()] as { format?: number }[];
  t.strictSame(
    docs.map((d) => d.format),
    [SNAPSHOT_FORMAT, SNAPSHOT_FORMAT],
    'the chunk and the meta',
  );
  t.strictSame(json(await store.load(0)), json({ ...snapshot, deltas: 0 }));
});

t.test('the store loads a format 1 snapshot, and refuses a newer one rather than skip or guess', async (t) => {
  const { db } = memoryDb();
  const p = partition();
  const state = json(p.snapshot(4));
  const older = db.collection(snapshotCollectionName(0, 4));
  await older.insertOne({ _id: 0 as never, accounts: JSON.stringify(state.accounts), seen: JSON.stringify(unpackedSeen(p)) });
  await older.insertOne({ _id: 'meta' as never, partition: 0, offset: 4, clock: state.clock, chunks: 1 });
  const store = new SnapshotStore(db, 5, DAY);
  // The same ids added in the same order make the same filter: the live one.
  t.strictSame(json(await store.load(0)), { ...state, deltas: 0 }, 'format 1 with unpacked ids');

  const newer = db.collection(snapshotCollectionName(0, 9));
  const chunk = await encodeChunk(0, { accounts: [], ids: [] });
  await newer.insertOne({ ...chunk, format: SNAPSHOT_FORMAT + 1 } as never);
  await newer.insertOne({ ...encodeMeta(p.snapshot(9), 1), format: SNAPSHOT_FORMAT + 1 } as never);
  await t.rejects(store.load(0), { code: UNKNOWN_FORMAT.code }, 'the newest snapshot is in an unknown format');
});

t.test('a filter larger than a document holds is saved in pieces, one a chunk, and loads whole', async (t) => {
  const { db, collections } = memoryDb();
  const store = new SnapshotStore(db, 5, DAY);
  const filter = new IdFilter(DAY);
  for (let n = 0; n < 4_200_000; n++) filter.add(`a/${n}`, 0);
  const bytes = filter.serialize();
  t.ok(bytes.length > 8 * 1024 * 1024, `a filter of ${bytes.length} bytes`);
  const snapshot = { partition: 0, offset: 7, clock: 0, accounts: [], filter: bytes.toString('base64'), ids: [] };
  await store.save(snapshot);
  const docs = [...collections.get(snapshotCollectionName(0, 7))!.values()] as { _id: unknown; filter?: Binary }[];
  t.strictSame(
    docs.map((d) => [d._id, d.filter?.length()]),
    [
      [0, 8 * 1024 * 1024],
      [1, bytes.length - 8 * 1024 * 1024],
      ['meta', undefined],
    ],
    'two pieces, in order',
  );
  const loaded = await store.load(0);
  t.equal(loaded?.filter, snapshot.filter, 'the same filter back');
});

t.test('a delta carries the ids added since its base, and loads laid over it', async (t) => {
  const { db } = memoryDb();
  const store = new SnapshotStore(db, 5, DAY);
  const p = new PartitionLedger(0, DAY);
  p.apply(deposit('d1', 'acc', 100), 0);
  const whole = p.takeSnapshot(1, true);
  p.apply(deposit('d2', 'acc', 100, { receivedAt: 2_000 }), 1);
  await store.save(whole);
  await store.save(p.takeSnapshot(2, false), 1);
  const loaded = await store.load(0);
  t.equal(loaded?.filter, p.snapshot(2).filter, "the chain's filter is the live one");
  t.equal(loaded?.deltas, 1);
});

t.test('the store lays a delta by its format: formats 3 and 5 over the accounts below it, format 2 in place of them', async (t) => {
  const p = partition();
  p.apply(deposit('c1', 'c', 5), 4);
  const seenWhole = packedSeen(p);
  const whole = json(p.takeSnapshot(5, true));
  p.apply(deposit('a2', 'acc', 1), 5);
  const seenDelta = packedSeen(p).slice(seenWhole.length);
  const delta = p.takeSnapshot(6, false);
  t.same(delta.accounts.map(([id]) => id), ['acc'], 'the delta leaves c out');

  const current = memoryDb();
  const store = new SnapshotStore(current.db, 5, DAY);
  await store.save(whole);
  await store.save(delta, 5);
  const { deltas: _deltas, ...loaded } = (await store.load(0))!;
  t.same(
    loaded.accounts.map(([id, a]) => [id, a.balance]),
    [
      ['acc', 41],
      ['c', 5],
    ],
    'format 5: the changed account laid over the others, in their order',
  );
  t.strictSame(json(loaded), json(p.snapshot(6)), 'the whole state');

  // Format 3 code wrote the same accounts, with the remembered decisions instead of the filter.
  const format3 = memoryDb();
  await saveInSeenFormat(format3.db, CHANGED_ACCOUNTS_FORMAT, whole, seenWhole);
  await saveInSeenFormat(format3.db, CHANGED_ACCOUNTS_FORMAT, delta, seenDelta, 5);
  const { deltas: _chain, ...fromFormat3 } = (await new SnapshotStore(format3.db, 5, DAY).load(0))!;
  t.strictSame(json(fromFormat3), json(p.snapshot(6)), "format 3: the whole state, its ids in the live state's filter");

  // Format 2 code wrote every account into each delta: an account one leaves out is gone, by that format's meaning.
  const older = memoryDb();
  await saveInSeenFormat(older.db, WHOLE_ACCOUNTS_FORMAT, whole, seenWhole);
  await saveInSeenFormat(older.db, WHOLE_ACCOUNTS_FORMAT, { ...p.snapshot(6), accounts: [['acc', p.account('acc')!]] }, seenDelta, 5);
  t.same(
    (await new SnapshotStore(older.db, 5, DAY).load(0))?.accounts.map(([id]) => id),
    ['acc'],
    'a format 2 delta is every account whole',
  );

  const mixed = memoryDb();
  await saveInSeenFormat(mixed.db, WHOLE_ACCOUNTS_FORMAT, whole, seenWhole);
  await saveInSeenFormat(mixed.db, WHOLE_ACCOUNTS_FORMAT, p.snapshot(6), seenDelta, 5);
  const mixedStore = new SnapshotStore(mixed.db, 5, DAY);
  p.apply(deposit('a3', 'acc', 1), 6);
  await mixedStore.save(p.takeSnapshot(7, false), 6);
  t.strictSame(json(await mixedStore.load(0)), json({ ...p.snapshot(7), deltas: 2 }), 'a format 5 delta over a format 2 chain');
});

t.test('the clock source is saved in the meta document and loaded with the snapshot', async (t) => {
  const p = partition();
  p.apply({ v: 1, type: 'clock', source: 'log-append-time', receivedAt: 1 }, 4, 2_000);
  const { db } = memoryDb();
  const store = new SnapshotStore(db, 5, DAY);
  await store.save(p.snapshot(5));
  t.equal((await store.load(0))?.clockSource, 'log-append-time', 'loaded with it');
});

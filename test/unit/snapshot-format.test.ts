// The snapshot contract: chunks and meta documents carry their format and
// read back equal; documents without one are format 1 in each shape that
// format had; a format this code does not know is refused, by the codec and
// by the store's load, rather than guessed at. A delta is read by its own
// format: format 3 carries the accounts changed, format 2 every account whole.
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import t from 'tap';
import { Binary, type Db } from 'mongodb';
import { PartitionLedger } from '../../consumer/partition.js';
import {
  clockSourceOf,
  decodeChunk,
  encodeChunk,
  encodeMeta,
  formatOf,
  rememberedFromSnapshot,
  SNAPSHOT_FORMAT,
  UNMARKED_FORMAT,
} from '../../consumer/snapshot-format.js';
import { SnapshotStore, snapshotCollectionName } from '../../consumer/snapshots.js';
import { ledgerId } from '../../consumer/ledger.js';
import { TELLER_ERR_UNKNOWN_FORMAT as UNKNOWN_FORMAT } from '../../common/errors.js';
import { deposit, request, tick, withdraw } from '../helpers/tx.js';

const DAY = 86_400_000;
const deflate = promisify(deflateRaw);

/** A partition with accounts, a settled hold and a denied request: every kind of remembered id. */
function partition(): PartitionLedger {
  const p = new PartitionLedger(0, DAY);
  const msgs = [deposit('d', 'acc', 100), request('r', 'acc', 60), withdraw('w', 'acc', 60, { requestId: 'r' }), request('big', 'b', 1_000)];
  msgs.forEach((m, i) => p.apply(m, i));
  return p;
}

/** The remembered ids as format 1 held them before 39fb87c packed them. */
function unpackedSeen(p: PartitionLedger): unknown[] {
  return [...p.outcomes()].map((o) => [ledgerId(o.accountId, o.id), { fp: 'ignored', outcome: o, at: o.decidedAt }]);
}

t.test('a chunk and its meta carry the format and read back equal', async (t) => {
  const snapshot = partition().snapshot(4);
  const chunk = await encodeChunk(0, snapshot);
  t.equal(chunk.format, SNAPSHOT_FORMAT);
  t.type(chunk.seen, Binary, 'deflated');
  t.strictSame(await decodeChunk(chunk, 'chunk'), JSON.parse(JSON.stringify({ accounts: snapshot.accounts, seen: snapshot.seen })));
  const meta = encodeMeta(snapshot, 1);
  t.strictSame(meta, { _id: 'meta', format: SNAPSHOT_FORMAT, partition: 0, offset: 4, clock: snapshot.clock, chunks: 1 });
  t.equal(formatOf(meta, 'meta'), SNAPSHOT_FORMAT);
});

t.test('a document without a format is format 1, in each of its shapes', async (t) => {
  const p = partition();
  const expected = JSON.parse(JSON.stringify({ accounts: p.snapshot(4).accounts, seen: p.snapshot(4).seen }));
  const unmarkedMeta = { _id: 'meta', partition: 0, offset: 4, clock: 0, chunks: 1 };
  t.equal(formatOf(unmarkedMeta, 'meta'), UNMARKED_FORMAT);
  const shapes = {
    'JSON text, unpacked ids (before d31115c)': { accounts: JSON.stringify(expected.accounts), seen: JSON.stringify(unpackedSeen(p)) },
    'deflated, unpacked ids (d31115c to 39fb87c)': {
      accounts: new Binary(await deflate(JSON.stringify(expected.accounts))),
      seen: new Binary(await deflate(JSON.stringify(unpackedSeen(p)))),
    },
    'deflated, packed ids (39fb87c to a59883d)': {
      accounts: new Binary(await deflate(JSON.stringify(expected.accounts))),
      seen: new Binary(await deflate(JSON.stringify(expected.seen))),
    },
  };
  for (const [shape, fields] of Object.entries(shapes)) {
    t.strictSame(await decodeChunk({ _id: 0, ...fields }, shape), expected, shape);
  }
});

t.test('formats 2 and 3 are read as such only: no shape of format 1 is accepted in them', async (t) => {
  const p = partition();
  const packed = p.snapshot(4);
  await t.rejects(decodeChunk({ _id: 0, format: SNAPSHOT_FORMAT, accounts: '[]', seen: JSON.stringify(packed.seen) }, 'chunk'), TypeError, 'JSON text');
  const unpacked = new Binary(await deflate(JSON.stringify(unpackedSeen(p))));
  await t.rejects(decodeChunk({ _id: 0, format: SNAPSHOT_FORMAT, accounts: new Binary(await deflate('[]')), seen: unpacked }, 'chunk'), TypeError, 'unpacked ids');
  const [, outcome] = unpackedSeen(p)[0] as [string, unknown];
  t.type(rememberedFromSnapshot(outcome, UNMARKED_FORMAT), 'string', 'format 1 packs an unpacked id');
  t.throws(() => rememberedFromSnapshot(outcome, SNAPSHOT_FORMAT), TypeError, 'the current format does not');
  t.throws(() => rememberedFromSnapshot(outcome, 2), TypeError, 'nor does format 2');
});

t.test('a format this code does not know is refused', async (t) => {
  const newer = SNAPSHOT_FORMAT + 1;
  const refusal = { code: UNKNOWN_FORMAT.code, retryable: true, details: { found: newer } };
  t.throws(() => formatOf({ _id: 'meta', format: newer }, 'meta'), refusal);
  t.throws(() => formatOf({ _id: 'meta', format: 'two' }, 'meta'), { code: UNKNOWN_FORMAT.code });
  const chunk = { ...(await encodeChunk(0, partition().snapshot(4))), format: newer };
  await t.rejects(decodeChunk(chunk, 'chunk'), refusal);
  t.throws(() => rememberedFromSnapshot('1|d|a|1|1|0|||', newer), refusal);
});

/** Just what SnapshotStore uses of a database, in memory. */
function memoryDb(): { db: Db; collections: Map<string, Map<unknown, object>> } {
  const collections = new Map<string, Map<unknown, object>>();
  const docsOf = (name: string) => collections.get(name) ?? collections.set(name, new Map()).get(name)!;
  const db = {
    collection: (name: string) => ({
      insertOne: async (doc: { _id: unknown }) => {
        if (docsOf(name).has(doc._id)) throw Object.assign(new Error('duplicate key'), { code: 11000 });
        docsOf(name).set(doc._id, doc);
      },
      find: () => ({ toArray: async () => [...docsOf(name).values()] }),
      drop: async () => collections.delete(name),
    }),
    listCollections: () => ({ toArray: async () => [...collections.keys()].map((name) => ({ name })) }),
  };
  return { db: db as unknown as Db, collections };
}

t.test('the store writes the format into every document and loads by it', async (t) => {
  const { db, collections } = memoryDb();
  const store = new SnapshotStore(db, 5);
  const snapshot = partition().snapshot(4);
  await store.save(snapshot);
  const docs = [...collections.get(snapshotCollectionName(0, 4))!.values()] as { format?: number }[];
  t.strictSame(
    docs.map((d) => d.format),
    [SNAPSHOT_FORMAT, SNAPSHOT_FORMAT],
    'the chunk and the meta',
  );
  t.strictSame(JSON.parse(JSON.stringify(await store.load(0))), JSON.parse(JSON.stringify({ ...snapshot, deltas: 0 })));
});

t.test('the store loads a format 1 snapshot, and refuses a newer one rather than skip or guess', async (t) => {
  const { db } = memoryDb();
  const p = partition();
  const state = JSON.parse(JSON.stringify(p.snapshot(4)));
  const older = db.collection(snapshotCollectionName(0, 4));
  await older.insertOne({ _id: 0 as never, accounts: JSON.stringify(state.accounts), seen: JSON.stringify(unpackedSeen(p)) });
  await older.insertOne({ _id: 'meta' as never, partition: 0, offset: 4, clock: state.clock, chunks: 1 });
  const store = new SnapshotStore(db, 5);
  t.strictSame(JSON.parse(JSON.stringify(await store.load(0))), { ...state, deltas: 0 }, 'format 1 with unpacked ids');

  const newer = db.collection(snapshotCollectionName(0, 9));
  const chunk = await encodeChunk(0, p.snapshot(9));
  await newer.insertOne({ ...chunk, format: SNAPSHOT_FORMAT + 1 } as never);
  await newer.insertOne({ ...encodeMeta(p.snapshot(9), 1), format: SNAPSHOT_FORMAT + 1 } as never);
  await t.rejects(store.load(0), { code: UNKNOWN_FORMAT.code }, 'the newest snapshot is in an unknown format');
});

t.test('a delta carries only the accounts changed since the snapshot taken before it', async (t) => {
  const p = partition();
  p.apply(deposit('c1', 'c', 5), 4);
  t.same(
    p.takeSnapshot(5, true).accounts.map(([id]) => id),
    ['acc', 'c'],
    'a whole snapshot: every account',
  );
  p.apply(deposit('a2', 'acc', 1), 5);
  p.apply(deposit('n1', 'new', 3), 6);
  const delta = p.takeSnapshot(7, false);
  t.same(
    delta.accounts.map(([id, a]) => [id, a.balance]),
    [
      ['acc', 41],
      ['new', 3],
    ],
    'the account changed and the one created, not c',
  );
  t.equal(delta.changedAccountsOnly, true);
  p.apply(tick(1_000), 7);
  t.same(p.takeSnapshot(8, false).accounts, [], 'nothing changed since: no account');
});

/** A snapshot saved as format 2 code saved it: its documents say format 2. */
async function saveAsFormat2(db: Db, snapshot: ReturnType<PartitionLedger['snapshot']>, base?: number): Promise<void> {
  const collection = db.collection(snapshotCollectionName(snapshot.partition, snapshot.offset, base));
  await collection.insertOne({ ...(await encodeChunk(0, snapshot)), format: 2 } as never);
  await collection.insertOne({ ...encodeMeta(snapshot, 1), format: 2 } as never);
}

t.test('the store lays a delta by its format: format 3 over the accounts below it, format 2 in place of them', async (t) => {
  const p = partition();
  p.apply(deposit('c1', 'c', 5), 4);
  const whole = JSON.parse(JSON.stringify(p.takeSnapshot(5, true)));
  p.apply(deposit('a2', 'acc', 1), 5);
  const delta = p.takeSnapshot(6, false);
  t.same(delta.accounts.map(([id]) => id), ['acc'], 'the delta leaves c out');

  const current = memoryDb();
  const store = new SnapshotStore(current.db, 5);
  await store.save(whole);
  await store.save(delta, 5);
  const { deltas: _deltas, ...loaded } = (await store.load(0))!;
  t.same(
    loaded.accounts.map(([id, a]) => [id, a.balance]),
    [
      ['acc', 41],
      ['c', 5],
    ],
    'format 3: the changed account laid over the others, in their order',
  );
  t.strictSame(JSON.parse(JSON.stringify(loaded)), JSON.parse(JSON.stringify(p.snapshot(6))), 'the whole state');

  // Format 2 code wrote every account into each delta: an account one leaves out is gone, by that format's meaning.
  const older = memoryDb();
  await saveAsFormat2(older.db, whole);
  await saveAsFormat2(older.db, { ...p.snapshot(6), accounts: [['acc', p.account('acc')!]] }, 5);
  t.same(
    (await new SnapshotStore(older.db, 5).load(0))?.accounts.map(([id]) => id),
    ['acc'],
    'a format 2 delta is every account whole',
  );

  const mixed = memoryDb();
  await saveAsFormat2(mixed.db, whole);
  await saveAsFormat2(mixed.db, p.snapshot(6), 5);
  const mixedStore = new SnapshotStore(mixed.db, 5);
  p.apply(deposit('a3', 'acc', 1), 6);
  await mixedStore.save(p.takeSnapshot(7, false), 6);
  t.same(
    JSON.parse(JSON.stringify((await mixedStore.load(0))?.accounts)),
    JSON.parse(JSON.stringify(p.snapshot(7).accounts)),
    'a format 3 delta over a format 2 chain',
  );
});

t.test("the clock source is kept in the meta document, and an unknown one is refused", async (t) => {
  const p = partition();
  p.apply({ v: 1, type: 'clock', source: 'log-append-time', receivedAt: 1 }, 4, 2_000);
  const snapshot = p.snapshot(5);
  const meta = encodeMeta(snapshot, 1);
  t.equal(meta.clockSource, 'log-append-time');
  t.notOk('clockSource' in encodeMeta(partition().snapshot(4), 1), 'absent while the source is receivedAt');
  t.equal(clockSourceOf(meta, 'meta'), 'log-append-time');
  t.throws(() => clockSourceOf({ ...meta, clockSource: 'sundial' as never }, 'meta'), TypeError);
  const { db } = memoryDb();
  const store = new SnapshotStore(db, 5);
  await store.save(snapshot);
  t.equal((await store.load(0))?.clockSource, 'log-append-time', 'loaded with it');
});

// The snapshot contract: chunks and meta documents carry their format and
// read back equal; documents without one are format 1 in each shape that
// format had, and format 2's remembered ids read as ids with their decision
// times; a format this code does not know is refused, by the codec and by the
// store's load, rather than guessed at.
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import t from 'tap';
import { Binary, type Db } from 'mongodb';
import { IdFilter } from '../../consumer/id-filter.js';
import { PartitionLedger } from '../../consumer/partition.js';
import {
  decodeChunk,
  encodeChunk,
  encodeMeta,
  formatOf,
  rememberedFromSnapshot,
  SEEN_FORMAT,
  SNAPSHOT_FORMAT,
  UNMARKED_FORMAT,
} from '../../consumer/snapshot-format.js';
import { SnapshotStore, snapshotCollectionName } from '../../consumer/snapshots.js';
import { ledgerId } from '../../consumer/ledger.js';
import { remember } from '../../common/remembered.js';
import { TELLER_ERR_UNKNOWN_FORMAT as UNKNOWN_FORMAT } from '../../common/errors.js';
import { deposit, request, withdraw } from '../helpers/tx.js';

const DAY = 86_400_000;
const deflate = promisify(deflateRaw);

/** A partition with accounts, a settled hold and a denied request: every kind of decision. */
function partition(): PartitionLedger {
  const p = new PartitionLedger(0, DAY);
  const msgs = [deposit('d', 'acc', 100), request('r', 'acc', 60), withdraw('w', 'acc', 60, { requestId: 'r' }), request('big', 'b', 1_000)];
  msgs.forEach((m, i) => p.apply(m, i));
  return p;
}

/** The remembered ids as format 2 held them: each decision packed. */
function packedSeen(p: PartitionLedger): [string, string][] {
  return [...p.outcomes()].map((o) => [ledgerId(o.accountId, o.id), remember(o)]);
}

/** The remembered ids as format 1 held them before 39fb87c packed them. */
function unpackedSeen(p: PartitionLedger): unknown[] {
  return [...p.outcomes()].map((o) => [ledgerId(o.accountId, o.id), { fp: 'ignored', outcome: o, at: o.decidedAt }]);
}

/** What a chunk of format 1 or 2 reads as: its accounts, and its ids with their decision times. */
function idsOf(p: PartitionLedger): [string, number][] {
  return [...p.outcomes()].map((o) => [ledgerId(o.accountId, o.id), o.decidedAt]);
}

t.test('a chunk and its meta carry the format and read back equal', async (t) => {
  const snapshot = partition().snapshot(4);
  const filter = Buffer.from(snapshot.filter!, 'base64');
  const chunk = await encodeChunk(0, { accounts: snapshot.accounts, ids: [['acc/x', 5]], filter });
  t.equal(chunk.format, SNAPSHOT_FORMAT);
  t.type(chunk.ids, Binary, 'the ids deflated');
  t.type(chunk.filter, Binary, 'the filter as bytes');
  const decoded = await decodeChunk(chunk, 'chunk');
  t.strictSame(JSON.parse(JSON.stringify({ accounts: decoded.accounts, ids: decoded.ids })), JSON.parse(JSON.stringify({ accounts: snapshot.accounts, ids: [['acc/x', 5]] })));
  t.ok(Buffer.from(decoded.filter!).equals(filter), 'the same filter bytes');
  t.notOk('filter' in (await encodeChunk(1, { accounts: [], ids: [] })), 'a chunk without a piece of filter has no field');
  const meta = encodeMeta(snapshot, 1);
  t.strictSame(meta, { _id: 'meta', format: SNAPSHOT_FORMAT, partition: 0, offset: 4, clock: snapshot.clock, chunks: 1 });
  t.equal(formatOf(meta, 'meta'), SNAPSHOT_FORMAT);
});

t.test('a document without a format is format 1, in each of its shapes', async (t) => {
  const p = partition();
  const accounts = JSON.parse(JSON.stringify(p.snapshot(4).accounts));
  const expected = { accounts, ids: idsOf(p) };
  const unmarkedMeta = { _id: 'meta', partition: 0, offset: 4, clock: 0, chunks: 1 };
  t.equal(formatOf(unmarkedMeta, 'meta'), UNMARKED_FORMAT);
  const shapes = {
    'JSON text, unpacked ids (before d31115c)': { accounts: JSON.stringify(accounts), seen: JSON.stringify(unpackedSeen(p)) },
    'deflated, unpacked ids (d31115c to 39fb87c)': {
      accounts: new Binary(await deflate(JSON.stringify(accounts))),
      seen: new Binary(await deflate(JSON.stringify(unpackedSeen(p)))),
    },
    'deflated, packed ids (39fb87c to a59883d)': {
      accounts: new Binary(await deflate(JSON.stringify(accounts))),
      seen: new Binary(await deflate(JSON.stringify(packedSeen(p)))),
    },
  };
  for (const [shape, fields] of Object.entries(shapes)) {
    t.strictSame(await decodeChunk({ _id: 0, ...fields }, shape), expected, shape);
  }
});

t.test('format 2: its packed ids read as ids with their decision times, and no shape of format 1 is accepted in it', async (t) => {
  const p = partition();
  const accounts = new Binary(await deflate('[]'));
  const packed = new Binary(await deflate(JSON.stringify(packedSeen(p))));
  t.strictSame(await decodeChunk({ _id: 0, format: SEEN_FORMAT, accounts, seen: packed }, 'chunk'), { accounts: [], ids: idsOf(p) }, 'packed ids');
  await t.rejects(decodeChunk({ _id: 0, format: SEEN_FORMAT, accounts: '[]', seen: JSON.stringify(packedSeen(p)) }, 'chunk'), TypeError, 'JSON text');
  const unpacked = new Binary(await deflate(JSON.stringify(unpackedSeen(p))));
  await t.rejects(decodeChunk({ _id: 0, format: SEEN_FORMAT, accounts, seen: unpacked }, 'chunk'), TypeError, 'unpacked ids');
  await t.rejects(decodeChunk({ _id: 0, format: SEEN_FORMAT, accounts }, 'chunk'), TypeError, 'no ids at all');
  const [, outcome] = unpackedSeen(p)[0] as [string, unknown];
  t.type(rememberedFromSnapshot(outcome, UNMARKED_FORMAT), 'string', 'format 1 packs an unpacked id');
  t.throws(() => rememberedFromSnapshot(outcome, SEEN_FORMAT), TypeError, 'format 2 does not');
});

t.test('a format this code does not know is refused', async (t) => {
  const newer = SNAPSHOT_FORMAT + 1;
  const refusal = { code: UNKNOWN_FORMAT.code, retryable: true, details: { found: newer } };
  t.throws(() => formatOf({ _id: 'meta', format: newer }, 'meta'), refusal);
  t.throws(() => formatOf({ _id: 'meta', format: 'two' }, 'meta'), { code: UNKNOWN_FORMAT.code });
  const chunk = { ...(await encodeChunk(0, { accounts: [], ids: [] })), format: newer };
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
  const store = new SnapshotStore(db, 5, DAY);
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
  const store = new SnapshotStore(db, 5, DAY);
  // The same ids added in the same order make the same filter: the live one.
  t.strictSame(JSON.parse(JSON.stringify(await store.load(0))), { ...state, deltas: 0 }, 'format 1 with unpacked ids');

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
  const delta = p.takeSnapshot(2, false);
  t.strictSame(delta.ids, [['acc/d2', 2_000]], 'the delta: the id added since, with its time');
  t.equal(delta.filter, undefined, 'and no filter');
  await store.save(whole);
  await store.save(delta, 1);
  const loaded = await store.load(0);
  t.equal(loaded?.filter, p.snapshot(2).filter, "the chain's filter is the live one");
  t.equal(loaded?.deltas, 1);
});

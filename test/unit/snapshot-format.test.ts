// The snapshot contract: chunks and meta documents carry their format and
// read back equal; documents without one are format 1 in each shape that
// format had, and the remembered ids of formats 1 to 3 read as ids with their
// decision times; a format this code does not know (format 4 among them, never
// deployed) is refused rather than guessed at. A delta carries the accounts
// changed and the ids added since the snapshot before it; the meta document
// carries the clock source. The store's side is snapshot-store.test.ts.
import t from 'tap';
import { Binary } from 'mongodb';
import {
  CHANGED_ACCOUNTS_FORMAT,
  clockSourceOf,
  decodeChunk,
  encodeChunk,
  encodeMeta,
  formatOf,
  rememberedFromSnapshot,
  SNAPSHOT_FORMAT,
  UNMARKED_FORMAT,
  WHOLE_ACCOUNTS_FORMAT,
} from '../../consumer/snapshot-format.js';
import { TELLER_ERR_UNKNOWN_FORMAT as UNKNOWN_FORMAT } from '../../common/errors.js';
import { deflate, idsOf, packedSeen, partition, unpackedSeen } from '../helpers/snapshot-fixtures.js';
import { deposit, tick } from '../helpers/tx.js';

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

t.test('formats 2 and 3: their packed ids read as ids with their decision times, and no shape of format 1 is accepted in them', async (t) => {
  const p = partition();
  const accounts = new Binary(await deflate('[]'));
  const packed = new Binary(await deflate(JSON.stringify(packedSeen(p))));
  const unpacked = new Binary(await deflate(JSON.stringify(unpackedSeen(p))));
  const [, outcome] = unpackedSeen(p)[0] as [string, unknown];
  for (const format of [WHOLE_ACCOUNTS_FORMAT, CHANGED_ACCOUNTS_FORMAT]) {
    t.strictSame(await decodeChunk({ _id: 0, format, accounts, seen: packed }, 'chunk'), { accounts: [], ids: idsOf(p) }, `format ${format}: packed ids`);
    await t.rejects(decodeChunk({ _id: 0, format, accounts: '[]', seen: JSON.stringify(packedSeen(p)) }, 'chunk'), TypeError, 'JSON text');
    await t.rejects(decodeChunk({ _id: 0, format, accounts, seen: unpacked }, 'chunk'), TypeError, 'unpacked ids');
    await t.rejects(decodeChunk({ _id: 0, format, accounts }, 'chunk'), TypeError, 'no ids at all');
    t.throws(() => rememberedFromSnapshot(outcome, format), TypeError, `format ${format} does not pack an unpacked id`);
  }
  t.type(rememberedFromSnapshot(outcome, UNMARKED_FORMAT), 'string', 'format 1 packs an unpacked id');
  t.throws(() => rememberedFromSnapshot(outcome, SNAPSHOT_FORMAT), { code: UNKNOWN_FORMAT.code }, 'the current format holds no remembered decisions');
});

t.test('a format this code does not know is refused', async (t) => {
  const newer = SNAPSHOT_FORMAT + 1;
  const refusal = { code: UNKNOWN_FORMAT.code, retryable: true, details: { found: newer } };
  t.throws(() => formatOf({ _id: 'meta', format: newer }, 'meta'), refusal);
  t.throws(() => formatOf({ _id: 'meta', format: 'two' }, 'meta'), { code: UNKNOWN_FORMAT.code });
  t.throws(() => formatOf({ _id: 'meta', format: 4 }, 'meta'), { code: UNKNOWN_FORMAT.code, details: { found: 4 } }, 'format 4, never deployed');
  const chunk = { ...(await encodeChunk(0, { accounts: [], ids: [] })), format: newer };
  await t.rejects(decodeChunk(chunk, 'chunk'), refusal);
  t.throws(() => rememberedFromSnapshot('1|d|a|1|1|0|||', newer), refusal);
});

t.test('a delta carries only the accounts changed and the ids added since the snapshot taken before it', async (t) => {
  const p = partition();
  p.apply(deposit('c1', 'c', 5), 4);
  const whole = p.takeSnapshot(5, true);
  t.same(
    whole.accounts.map(([id]) => id),
    ['acc', 'c'],
    'a whole snapshot: every account',
  );
  t.ok(whole.filter, 'and the filter');
  p.apply(deposit('a2', 'acc', 1), 5);
  p.apply(deposit('n1', 'new', 3, { receivedAt: 2_000 }), 6);
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
  t.strictSame(
    delta.ids.map(([key]) => key),
    ['acc/a2', 'new/n1'],
    'the ids added since, in order',
  );
  t.equal(delta.ids[1]![1], 2_000, 'each with its decision time');
  t.equal(delta.filter, undefined, 'and no filter');
  p.apply(tick(1_000), 7);
  const quiet = p.takeSnapshot(8, false);
  t.strictSame([quiet.accounts, quiet.ids], [[], []], 'nothing changed since: no account, no id');
});

t.test('the clock source is kept in the meta document, and an unknown one is refused', async (t) => {
  const p = partition();
  p.apply({ v: 1, type: 'clock', source: 'log-append-time', receivedAt: 1 }, 4, 2_000);
  const meta = encodeMeta(p.snapshot(5), 1);
  t.equal(meta.clockSource, 'log-append-time');
  t.notOk('clockSource' in encodeMeta(partition().snapshot(4), 1), 'absent while the source is receivedAt');
  t.equal(clockSourceOf(meta, 'meta'), 'log-append-time');
  t.throws(() => clockSourceOf({ ...meta, clockSource: 'sundial' as never }, 'meta'), TypeError);
});

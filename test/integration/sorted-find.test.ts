// A sorted, limited find answers what the same find without its limit
// answers first, whatever types the sort field and the filter fields hold,
// with equalities and ranges of numbers in its filter. On FerretDB such a
// find lets SQLite pick what the limit can return, and a range filters there
// too (scripts/ferretdb/patches/0002). The reference is the same
// find without a limit and with its filter under a top-level $and, which
// FerretDB's handler alone filters and sorts. On MongoDB both are native.
import t from 'tap';
import { BSON, BSONRegExp, Double, Int32, Long, MongoClient, ObjectId, Timestamp, type Document } from 'mongodb';
import { config, readStack } from '../helpers/stack.js';

const client = await MongoClient.connect(readStack().mongoUri);
t.teardown(() => client.close());
const collection = client.db(config.mongoDb).collection<Document>(`sorted_find_test_${process.pid}`);
t.teardown(() => collection.drop().catch(() => undefined));

/** Sort values of every kind the handler ranks: numbers of each type (longs past 2^53 too), and what sorts around them. */
const values: unknown[] = [
  new Int32(7),
  new Int32(-3),
  new Int32(7),
  new Double(7.5),
  new Double(-0.25),
  new Double(1e300),
  Long.fromString('9007199254740993'),
  Long.fromString('-9007199254740993'),
  Long.fromNumber(12),
  Long.MIN_VALUE,
  new Double(9007199254740992),
  new Double(0.1),
  'text',
  '10',
  new Date(Date.UTC(2024, 0, 1)),
  new Timestamp({ t: 5, i: 1 }),
  null,
  undefined,
  [1, 99],
  [],
  { nested: 1 },
  true,
];
const hex = '0000000000000000000000aa';
/**
 * Filter fields: the value, another, arrays with and without it (which {k: 'a'} matches only when they
 * hold 'a'), and values of other types stored as the same text as a filter's value (a date or a timestamp
 * as its number, an ObjectId or a regular expression as a string), which an equality does not match.
 */
const keys: unknown[] = ['a', 'a', 'a', 'b', ['a', 'x'], ['x'], new Int32(5), new Date(5), new Timestamp({ t: 0, i: 5 }), new ObjectId(hex), hex, new BSONRegExp('a')];

await collection.insertMany(
  values.flatMap((v, i) =>
    keys.map((k, j) => {
      const doc: Document = { _id: `${i}-${j}`, k, other: j % 2 };
      if (v !== undefined) doc.v = v;
      return doc;
    }),
  ),
);

const sortValues = (docs: Document[]) => docs.map((d) => BSON.EJSON.stringify({ v: d.v }, { relaxed: false }));

const filters: [string, Document][] = [
  ['{k: a}', { k: 'a' }],
  ['{k: 5}', { k: 5 }],
  ['{k: <a hex string>}', { k: hex }],
  ['{k: ObjectId(<the same hex>)}', { k: new ObjectId(hex) }],
  ['{k: a, other: 1}', { k: 'a', other: 1 }],
  ['{other: 0}', { other: 0 }],
  ['no filter', {}],
  ['{k: a, v: {$exists: true}} (not pushed down whole)', { k: 'a', v: { $exists: true } }],
  // Ranges of numbers, as a statement's next page has ({offset: {$lt: cursor}}).
  ['{k: a, v: {$lt: 8}}', { k: 'a', v: { $lt: 8 } }],
  ['{v: {$gte: -1, $lte: 7.5}}', { v: { $gte: -1, $lte: new Double(7.5) } }],
  ['{k: a, v: {$gt: 7}}', { k: 'a', v: { $gt: 7 } }],
  ['{v: {$lt: 2^53 + 1}} (a long past 2^53: not pushed down)', { v: { $lt: Long.fromString('9007199254740993') } }],
  ['{v: {$gt: -1e301}}', { v: { $gt: new Double(-1e301) } }],
  ['{k: a, v: {$lt: 10}, other: 1}', { k: 'a', v: { $lt: 10 }, other: 1 }],
];

for (const [name, filter] of filters) {
  t.test(`${name}: each limit returns the first documents of the unlimited sort`, async (t) => {
    for (const direction of [1, -1] as const) {
      // The reference: the filter under a top-level $and, which FerretDB passes SQLite nothing of.
      const all = await collection.find({ $and: [filter] }).sort({ v: direction }).toArray();
      t.ok(all.length > 0, `${all.length} documents match`);
      for (const limit of [1, 2, 3, 5, 8, 13, 21, all.length, all.length + 5, 0]) {
        const limited = await collection.find(filter).sort({ v: direction }).limit(limit).toArray();
        const wanted = limit === 0 ? all : all.slice(0, limit);
        t.same(sortValues(limited), sortValues(wanted), `sort {v: ${direction}}, ${limit === 0 ? 'no limit' : `limit ${limit}`}`);
      }
    }
  });
}

t.test('a limit as large as a long answers every match', async (t) => {
  const reply = await client
    .db(config.mongoDb)
    .command({ find: collection.collectionName, filter: { k: 'a' }, sort: { v: 1 }, limit: Long.MAX_VALUE, batchSize: 1000 });
  const all = await collection.find({ $and: [{ k: 'a' }] }).sort({ v: 1 }).toArray();
  t.same(sortValues(reply.cursor.firstBatch as Document[]), sortValues(all), `${all.length} documents`);
});

// A sorted, limited find answers what the same find without its limit
// answers first, whatever types the sort field and the filter field hold. On
// FerretDB such a find lets SQLite pick what the limit can return
// (scripts/ferretdb/patches/0002); the reference, the same find without a
// limit, is sorted by FerretDB's handler alone. On MongoDB both are native.
import t from 'tap';
import { BSON, Double, Int32, Long, MongoClient, Timestamp, type Document } from 'mongodb';
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
  new Double(9007199254740992),
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
/** Filter fields: the value, another, and arrays with and without it (which {k: 'a'} matches only when they hold 'a'). */
const keys: unknown[] = ['a', 'a', 'a', 'b', ['a', 'x'], ['x']];

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
  ['{k: a, other: 1}', { k: 'a', other: 1 }],
  ['{other: 0}', { other: 0 }],
  ['no filter', {}],
  ['{k: a, v: {$exists: true}} (not pushed down whole)', { k: 'a', v: { $exists: true } }],
];

for (const [name, filter] of filters) {
  t.test(`${name}: each limit returns the first documents of the unlimited sort`, async (t) => {
    for (const direction of [1, -1] as const) {
      const all = await collection.find(filter).sort({ v: direction }).toArray();
      t.ok(all.length > 0, `${all.length} documents match`);
      for (const limit of [1, 2, 3, 5, 8, 13, 21, all.length, all.length + 5]) {
        const limited = await collection.find(filter).sort({ v: direction }).limit(limit).toArray();
        t.same(sortValues(limited), sortValues(all.slice(0, limit)), `sort {v: ${direction}}, limit ${limit}`);
      }
    }
  });
}

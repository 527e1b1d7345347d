// The ledger's indexes on the database the stack runs: FerretDB scans for every
// query, so it carries no statement index to maintain on each insert; MongoDB
// has it for statements.
import t from 'tap';
import { MongoClient } from 'mongodb';
import { ensureIndexes, isFerretDb } from '../../consumer/mongo.js';
import { config, readStack } from '../helpers/stack.js';

const client = await MongoClient.connect(readStack().mongoUri);
t.teardown(() => client.close());

t.test('the statement index exists exactly where it is used', async (t) => {
  const db = client.db(config.mongoDb);
  await ensureIndexes(db);
  const names = (await db.collection('transactions').indexes()).map((i) => i.name);
  t.ok(names.includes('_id_'), 'the _id index is always there');
  if (await isFerretDb(db)) t.notOk(names.includes('account_offset'), 'FerretDB: no statement index');
  else t.ok(names.includes('account_offset'), 'MongoDB: the statement index');
});

// The ledger's indexes on the database the stack runs, and the plans that use
// them: a lookup by _id, a statement (filtered or not), the reads of an account
// as of a time or a cut, and the lookups of a remembered id (its decisions by
// id, a request's cancels and lapses by requestId) search an index instead of
// scanning the ledger. FerretDB's explain gives SQLite's own query plan, one line a step
// ("id=3 parent=0 notused=0 detail=SEARCH <table> USING INDEX <table>_<index>
// (<expr>=?)"); without the patch in scripts/ferretdb/patches both read as
// "detail=SCAN <table>". MongoDB's gives its winning plan.
import t from 'tap';
import { MongoClient, type Document } from 'mongodb';
import { offsetQuery, pointQuery, settingsQuery } from '../../api/account-history.js';
import { statementQuery } from '../../api/ledger-filters.js';
import { decisionQueries, statusQueries } from '../../consumer/id-lookup.js';
import { collections, ensureIndexes, isFerretDb } from '../../consumer/mongo.js';
import { config, readStack } from '../helpers/stack.js';

const client = await MongoClient.connect(readStack().mongoUri);
t.teardown(() => client.close());
const db = client.db(config.mongoDb);
await ensureIndexes(db);
const ferretDb = await isFerretDb(db);

/** The steps of FerretDB's SQLite query plan, from the explain of one find. */
function sqliteSteps(explained: Document): string[] {
  const steps: unknown = explained.queryPlanner?.Plan;
  return Array.isArray(steps) ? steps.map(String) : [];
}

/** Whether MongoDB's winning plan reads the whole collection. */
function scansCollection(explained: Document): boolean {
  return JSON.stringify(explained.queryPlanner?.winningPlan ?? {}).includes('COLLSCAN');
}

t.test('the ledger has its _id index, the statement index and the indexes of id lookups', async (t) => {
  const names = (await collections(db).transactions.indexes()).map((i) => i.name);
  t.ok(names.includes('_id_'), 'the _id index');
  t.ok(names.includes('account_offset'), 'the statement index, on MongoDB and on FerretDB');
  t.ok(names.includes('id'), 'the index of ids');
  t.ok(names.includes('request_id'), 'the index of request ids');
});

t.test('a lookup by _id searches the _id index', async (t) => {
  const explained = await collections(db).transactions.find({ _id: '0:12345' }).limit(1).explain();
  if (!ferretDb) {
    t.notOk(scansCollection(explained), 'MongoDB: no collection scan');
    return;
  }
  const steps = sqliteSteps(explained);
  t.ok(steps.some((s) => /detail=SEARCH \S+ USING INDEX \S+__id_ \(<expr>=\?\)/.test(s)), 'FerretDB: SEARCH using the _id index', { steps });
  t.notOk(steps.some((s) => /detail=SCAN /.test(s)), 'FerretDB: no SCAN of the table', { steps });
});

t.test("a statement searches the statement index for the account's entries", async (t) => {
  const explained = await collections(db).transactions.find({ accountId: 'acc-indexes-test' }).sort({ offset: -1 }).limit(10).explain();
  if (!ferretDb) {
    t.notOk(scansCollection(explained), 'MongoDB: no collection scan');
    t.match(JSON.stringify(explained.queryPlanner?.winningPlan), /"indexName":"account_offset"/, 'MongoDB: the statement index');
    return;
  }
  const steps = sqliteSteps(explained);
  t.ok(
    steps.some((s) => /detail=SEARCH \S+ USING INDEX \S+_account_offset \(<expr>=\?\)/.test(s)),
    'FerretDB: SEARCH using the statement index on the account',
    { steps },
  );
  t.notOk(steps.some((s) => /detail=SCAN /.test(s)), 'FerretDB: no SCAN of the table', { steps });
  // scripts/ferretdb/patches/0002: SQLite sorts the account's entries and keeps what the limit can return.
  t.equal(explained.sortPushdown, true, 'FerretDB: the sort is pushed down to SQLite');
  t.equal(explained.limitPushdown, true, 'FerretDB: so is the limit');
});

t.test("a statement's next page searches the statement index, and SQLite sorts and limits it too", async (t) => {
  const nextPage = { ...statementQuery('acc-indexes-test'), offset: { $lt: 1_000 } };
  const explained = await collections(db).transactions.find(nextPage).sort({ offset: -1 }).limit(51).explain();
  if (!ferretDb) {
    t.match(JSON.stringify(explained.queryPlanner?.winningPlan), /"indexName":"account_offset"/, 'MongoDB: the statement index');
    return;
  }
  const steps = sqliteSteps(explained);
  t.ok(steps.some((s) => /detail=SEARCH \S+ USING INDEX \S+_account_offset \(<expr>=\?/.test(s)), 'FerretDB: SEARCH using the statement index', { steps });
  t.notOk(steps.some((s) => /detail=SCAN /.test(s)), 'FerretDB: no SCAN of the table', { steps });
  // The range of offsets is passed down with the account (scripts/ferretdb/patches/0002), so the whole filter is.
  t.equal(explained.sortPushdown, true, 'FerretDB: the sort is pushed down to SQLite');
  t.equal(explained.limitPushdown, true, 'FerretDB: so is the limit');
});

/** The queries of consumer/id-lookup.ts and of the api's lookup by id, and the index each must search. */
const lookups: [string, Document, string][] = [
  ["an id's decisions (a repeat's first outcome, GET /v1/transactions/:id)", decisionQueries(['acc-indexes-test/tx-indexes-test'])[0]!, 'id'],
  ["a request's cancels and lapses", statusQueries(['tx-indexes-test'])[0]!, 'request_id'],
];

for (const [what, query, index] of lookups) {
  t.test(`${what} searches its index`, async (t) => {
    const explained = await collections(db).transactions.find(query).explain();
    if (!ferretDb) {
      t.notOk(scansCollection(explained), 'MongoDB: no collection scan');
      t.match(JSON.stringify(explained.queryPlanner?.winningPlan), new RegExp(`"indexName":"${index}"`), `MongoDB: the ${index} index`);
      return;
    }
    const steps = sqliteSteps(explained);
    t.ok(
      steps.some((s) => new RegExp(`detail=SEARCH \\S+ USING INDEX \\S+_${index} \\(<expr>=\\?\\)`).test(s)),
      `FerretDB: SEARCH using the ${index} index`,
      { steps },
    );
    t.notOk(steps.some((s) => /detail=SCAN /.test(s)), 'FerretDB: no SCAN of the table', { steps });
  });
}

/**
 * The history reads (api/ledger-filters.ts, api/account-history.ts): each led
 * by the account's equality, so each searches the statement index for the
 * account's entries and checks the rest of its filter on them. FerretDB's
 * detail names the index and starts with the account's equality (a query that
 * names an offset too may search on both columns); MongoDB's winning plan scans
 * the same index. No index of their own.
 */
const T = Date.UTC(2024, 0, 1);
const account = 'acc-indexes-test';
const historyReads: [string, Document][] = [
  ['a statement of one type and one status', statementQuery(account, { types: ['deposit'], statuses: ['applied'] })],
  ['a statement of several types and statuses', statementQuery(account, { types: ['deposit', 'withdraw', 'expire'], statuses: ['applied', 'denied'] })],
  ['a statement over a range of decision times, with a reference', statementQuery(account, { reference: 'inv-1', from: T, to: T + 86_400_000 })],
  ['the next page of a filtered statement', { ...statementQuery(account, { types: ['withdraw_request'], from: T }), offset: { $lt: 1_000 } }],
  ['an account as of a time', pointQuery(account, { decidedBy: T })],
  ['an account at a cut', pointQuery(account, { partition: 0, before: 1_000 })],
  ['the lapses and decision of one offset, as of a time', offsetQuery(pointQuery(account, { decidedBy: T }), { partition: 0, offset: 12 })],
  ["an account's settings changes", settingsQuery(account, 0, 1_000)],
];

for (const [what, query] of historyReads) {
  t.test(`${what} searches the statement index for the account's entries`, async (t) => {
    const explained = await collections(db).transactions.find(query).sort({ offset: -1 }).limit(10).explain();
    if (!ferretDb) {
      t.notOk(scansCollection(explained), 'MongoDB: no collection scan');
      t.match(JSON.stringify(explained.queryPlanner?.winningPlan), /"indexName":"account_offset"/, 'MongoDB: the statement index');
      return;
    }
    const steps = sqliteSteps(explained);
    t.ok(
      steps.some((s) => /detail=SEARCH \S+ USING INDEX \S+_account_offset \(<expr>=\?/.test(s)),
      'FerretDB: SEARCH using the statement index on the account',
      { steps },
    );
    t.notOk(steps.some((s) => /detail=SCAN /.test(s)), 'FerretDB: no SCAN of the table', { steps });
  });
}

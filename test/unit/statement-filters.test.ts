// Statements narrowed by type, status and a range of decision times
// (api/ledger-filters.ts, api/statement.ts): the query each filter becomes,
// led by the account as the statement index is, and pages through a ledger the
// rules decided that hold exactly the entries the filters keep, each once,
// newest first, whatever the page size.
import t, { type Test } from 'tap';
import { statementQuery, type StatementFilter } from '../../api/ledger-filters.js';
import { decodeCursor, Statements } from '../../api/statement.js';
import { PartitionLedger } from '../../consumer/partition.js';
import type { LedgerDoc, LogMessage } from '../../common/types.js';
import { MemoryCollection } from '../helpers/memory-collection.js';
import { apply, databaseOf, DAY } from '../helpers/partition-harness.js';
import { cancel, deposit, request, tick, withdraw } from '../helpers/tx.js';

t.test('the query: the account first, one value an equality, several an $in, times on decidedAt or else receivedAt', async (t) => {
  t.strictSame(statementQuery('a'), { accountId: 'a' });
  const q = statementQuery('a', { reference: 'inv-1', types: ['deposit'], statuses: ['applied', 'denied', 'applied'], from: 10, to: 20 });
  t.equal(Object.keys(q)[0], 'accountId', 'the account leads');
  t.strictSame(q, {
    accountId: 'a',
    reference: 'inv-1',
    type: 'deposit',
    status: { $in: ['applied', 'denied'] },
    $or: [{ decidedAt: { $gte: 10, $lt: 20 } }, { decidedAt: { $exists: false }, receivedAt: { $gte: 10, $lt: 20 } }],
  });
  t.strictSame(statementQuery('a', { to: 5 }).$or, [{ decidedAt: { $lt: 5 } }, { decidedAt: { $exists: false }, receivedAt: { $lt: 5 } }], 'an open start');
  t.strictSame(statementQuery('a', { types: [], statuses: [] }), { accountId: 'a' }, 'empty lists narrow nothing');
});

/** A log of deposits, holds, settlements, cancels, refusals and lapses on `acc`, `other` in between; receivedAt moves the clock. */
function decidedLedger(): LedgerDoc[] {
  const log: LogMessage[] = [];
  for (let n = 0; n < 12; n++) {
    const at = { receivedAt: 1_000 * (n + 1) };
    log.push(deposit(`d${n}`, 'acc', 10 + n, at));
    log.push(request(`r${n}`, 'acc', 5, { ...at, expiresAt: 1_000 * (n + 1) + 2_500 }));
    if (n % 3 === 0) log.push(withdraw(`w${n}`, 'acc', 3, { ...at, requestId: `r${n}` }));
    if (n % 3 === 1) log.push(cancel(`c${n}`, 'acc', `r${n}`, at));
    if (n % 4 === 0) log.push(request(`big${n}`, 'acc', 1_000_000, at));
    log.push(deposit(`o${n}`, 'other', 1, at));
  }
  log.push(tick(20_000));
  const p = new PartitionLedger(0, DAY);
  log.forEach((msg, offset) => apply(p, msg, offset));
  return databaseOf(p).match({});
}

const docs = decidedLedger();

/** Every entry of the statement, page by page through the cursor. */
async function pages(t: Test, statements: Statements, limit: number, filter: StatementFilter): Promise<LedgerDoc[]> {
  const seen: LedgerDoc[] = [];
  let cursor: number | undefined;
  for (let n = 0; n < 200; n++) {
    const page = await statements.page('acc', limit, cursor, filter);
    t.ok(page.entries.length <= limit || new Set(page.entries.map((d) => d.offset)).size < page.entries.length, 'over the limit only to finish an offset');
    seen.push(...page.entries);
    if (page.next === undefined) return seen;
    cursor = decodeCursor(page.next);
  }
  throw new Error('the statement never ended');
}

const cases: [string, StatementFilter, (d: LedgerDoc) => boolean][] = [
  ['a type', { types: ['deposit'] }, (d) => d.type === 'deposit'],
  ['types, lapses among them', { types: ['withdraw', 'expire'] }, (d) => d.type === 'withdraw' || d.type === 'expire'],
  ['a status', { statuses: ['denied'] }, (d) => d.status === 'denied'],
  ['statuses', { statuses: ['approved', 'denied'] }, (d) => d.status === 'approved' || d.status === 'denied'],
  ['from (inclusive)', { from: 6_000 }, (d) => d.decidedAt! >= 6_000],
  ['to (exclusive)', { to: 6_000 }, (d) => d.decidedAt! < 6_000],
  ['a range', { from: 3_000, to: 9_000 }, (d) => d.decidedAt! >= 3_000 && d.decidedAt! < 9_000],
  ['a range after the last request, lapses only', { from: 15_000, to: 25_000 }, (d) => d.decidedAt! >= 15_000],
  ['all together', { types: ['withdraw_request', 'cancel'], statuses: ['applied', 'approved'], from: 2_000, to: 11_000 }, (d) => ['withdraw_request', 'cancel'].includes(d.type) && ['applied', 'approved'].includes(d.status) && d.decidedAt! >= 2_000 && d.decidedAt! < 11_000],
];

for (const [what, filter, keeps] of cases) {
  t.test(`filtered by ${what}: every page through the cursor holds exactly the entries kept, newest first`, async (t) => {
    const want = docs.filter((d) => d.accountId === 'acc' && keeps(d));
    t.ok(want.length > 0, `${want.length} entries kept`);
    t.ok(want.length < docs.filter((d) => d.accountId === 'acc').length, 'and some left out');
    for (const limit of [1, 2, 3, 7, 100]) {
      const collection = new MemoryCollection<LedgerDoc>(docs);
      const seen = await pages(t, new Statements(collection as never), limit, filter);
      t.strictSame(seen.map((d) => d.id).sort(), want.map((d) => d.id).sort(), `limit ${limit}: each kept entry once`);
      t.ok(seen.every((d, i) => i === 0 || seen[i - 1]!.offset >= d.offset), `limit ${limit}: newest first`);
      t.ok(collection.queries.every((q) => Object.keys(q)[0] === 'accountId'), `limit ${limit}: every query led by the account`);
    }
  });
}

t.test('documents written before decidedAt was recorded are placed in time by receivedAt', async (t) => {
  const old = docs.map(({ decidedAt, ...doc }) => (doc.type === 'expire' || doc.offset % 2 === 0 ? (doc as LedgerDoc) : { ...doc, decidedAt: decidedAt! }));
  const statements = new Statements(new MemoryCollection<LedgerDoc>(old) as never);
  const seen = await pages(t, statements, 5, { from: 3_000, to: 9_000 });
  const want = old.filter((d) => d.accountId === 'acc' && (d.decidedAt ?? d.receivedAt) >= 3_000 && (d.decidedAt ?? d.receivedAt) < 9_000);
  t.ok(old.some((d) => d.decidedAt === undefined && want.includes(d)), 'some kept by receivedAt alone');
  t.strictSame(seen.map((d) => d.id).sort(), want.map((d) => d.id).sort());
});

// A statement narrowed to one reference: only the entries whose write carried
// it, newest first, paged with the same cursor, and the filter passed to the
// ledger as an equality (which the embedded server narrows the read by).
import t from 'tap';
import type { LedgerDoc } from '../../common/types.js';
import { decodeCursor, Statements } from '../../api/statement.js';

type Query = { accountId: string; reference?: string; offset?: number | { $lt: number } };

function ledgerOf(docs: LedgerDoc[], queries: Query[]) {
  return {
    find(filter: Query, o: { limit: number }) {
      queries.push(filter);
      const hit = docs
        .filter((d) => d.accountId === filter.accountId && (filter.reference === undefined || d.reference === filter.reference))
        .filter((d) => (filter.offset === undefined ? true : typeof filter.offset === 'number' ? d.offset === filter.offset : d.offset < filter.offset.$lt))
        .sort((x, y) => y.offset - x.offset);
      return { toArray: async () => (o.limit > 0 ? hit.slice(0, o.limit) : hit) };
    },
  };
}

const doc = (offset: number, reference?: string): LedgerDoc => ({
  _id: `0:${offset}`,
  id: `d${offset}`,
  accountId: 'a',
  type: 'deposit',
  amount: 1,
  status: 'applied',
  balanceAfter: offset + 1,
  reservedAfter: 0,
  partition: 0,
  offset,
  receivedAt: 1,
  ...(reference === undefined ? {} : { reference }),
});

t.test('only the entries of the reference, in pages', async (t) => {
  const docs = Array.from({ length: 12 }, (_, n) => doc(n, n % 3 === 0 ? 'inv-1' : n % 3 === 1 ? 'inv-2' : undefined));
  const queries: Query[] = [];
  const statements = new Statements(ledgerOf(docs, queries) as never);
  const seen: string[] = [];
  let cursor: number | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const page = await statements.page('a', 2, cursor, { reference: 'inv-1' });
    seen.push(...page.entries.map((d) => d.id));
    if (page.next === undefined) break;
    cursor = decodeCursor(page.next);
  }
  t.same(seen, ['d9', 'd6', 'd3', 'd0'], 'the four entries of inv-1, newest first');
  t.ok(queries.every((q) => q.reference === 'inv-1' && q.accountId === 'a'), 'every query names the account and the reference');
  const all = await new Statements(ledgerOf(docs, []) as never).page('a', 100);
  t.equal(all.entries.length, 12, 'without a reference, every entry');
});

// The chaos client's books of transfers: only a completed transfer moves money
// in them, and a transfer's 202 is asked again rather than kept.
import t from 'tap';
import { Books } from '../../scripts/chaos/client-books.js';

t.test('a completed transfer moves the amount from one account to the other', async (t) => {
  const books = new Books();
  books.record('d', 'a', 'deposit', 100, { status: 200, outcome: 'applied' });
  t.ok(books.record('t1', 'a', 'transfer', 30, { status: 201, outcome: 'completed' }, 'b'));
  t.same([books.balances.get('a'), books.balances.get('b')], [70, 30]);
  t.same(books.acknowledged.at(-1), { id: 't1', accountId: 'a' }, 'acknowledged under its account of origin');
});

t.test('a denied or returned transfer moves nothing; a 202 is not done', async (t) => {
  const books = new Books();
  books.record('d', 'a', 'deposit', 100, { status: 200, outcome: 'applied' });
  t.ok(books.record('t1', 'a', 'transfer', 300, { status: 402, outcome: 'denied', reason: 'insufficient_funds' }, 'b'));
  t.ok(books.record('t2', 'a', 'transfer', 30, { status: 402, outcome: 'returned', reason: 'account_closed' }, 'b'));
  t.notOk(books.record('t3', 'a', 'transfer', 30, { status: 202 }, 'b'), 'asked again until decided');
  t.same([books.balances.get('a'), books.balances.get('b') ?? 0], [100, 0]);
  t.equal(books.failures.get('202'), 1);
});

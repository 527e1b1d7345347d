// Pieces of the v1 api that need no stack: API_KEYS parsing and key checks,
// the Prefer header, the id from body or Idempotency-Key, statement cursors.
import t from 'tap';
import { ApiKeyAuth, digestOf, parseApiKeys } from '../../api/auth.js';
import { problemOf } from '../../api/problem.js';
import { prefersAsync, transactionId } from '../../api/routes/v1/write.js';
import { decodeCursor, encodeCursor } from '../../api/statement.js';
import { TellerError, TELLER_ERR_ID_MISMATCH, TELLER_ERR_ID_REQUIRED, TELLER_ERR_INVALID_CURSOR } from '../../common/errors.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';

/** The code of the error `work` throws, and the status a client gets for it. */
function refusal(work: () => unknown): { code: string; status: number } {
  try {
    work();
  } catch (err) {
    if (!(err instanceof TellerError)) throw err;
    return { code: err.code, status: problemOf(err).status };
  }
  throw new Error('nothing was thrown');
}

t.test('API_KEYS: digests, account lists, and clear errors', async (t) => {
  const k1 = mintKey();
  const k2 = mintKey();
  const keys = parseApiKeys(` ${apiKeyEntry(k1)} ; ${apiKeyEntry(k2, ['acct-1', 'acct-2'])};`);
  t.equal(keys.length, 2);
  t.equal(keys[0]!.accounts, undefined, 'no list: every account');
  t.same([...keys[1]!.accounts!], ['acct-1', 'acct-2']);
  t.same(keys[0]!.digest, digestOf(k1));
  t.equal(parseApiKeys(`${apiKeyEntry(k1)}:*`)[0]!.accounts, undefined, '* is every account');
  t.throws(() => parseApiKeys('not-a-digest'), /not a SHA-256 digest/);
  t.throws(() => parseApiKeys(`${apiKeyEntry(k1)}:bad account`), /invalid account ids/);
  t.throws(() => parseApiKeys(' ; '), /no key/);
  t.notMatch(apiKeyEntry(k1), new RegExp(k1), 'the entry does not contain the key');
  t.match(mintKey(), /^tk_[A-Za-z0-9_-]{32}$/);
});

t.test('a presented key is found by its digest, whatever its place', async (t) => {
  const k1 = mintKey();
  const k2 = mintKey();
  const auth = new ApiKeyAuth(parseApiKeys(`${apiKeyEntry(k1)};${apiKeyEntry(k2, ['a'])}`));
  t.equal(auth.authenticate(`Bearer ${k1}`)?.label, digestOf(k1).toString('hex').slice(0, 8));
  t.same([...auth.authenticate(`bearer  ${k2}`)!.accounts!], ['a'], 'the scheme is case-insensitive');
  t.equal(auth.authenticate(undefined), undefined);
  t.equal(auth.authenticate(k1), undefined, 'no scheme');
  t.equal(auth.authenticate(`Basic ${k1}`), undefined);
  t.equal(auth.authenticate(`Bearer ${k1}x`), undefined);
  t.equal(auth.authenticate(`Bearer ${digestOf(k1).toString('hex')}`), undefined, 'the digest is not the key');
});

t.test('Prefer: respond-async among other preferences (RFC 7240)', async (t) => {
  t.equal(prefersAsync(undefined), false);
  t.equal(prefersAsync('respond-async'), true);
  t.equal(prefersAsync('wait=10, Respond-Async'), true);
  t.equal(prefersAsync('respond-async; foo=bar'), true);
  t.equal(prefersAsync('return=minimal'), false);
  t.equal(prefersAsync('respond-asyncx'), false);
  t.equal(prefersAsync(''), false);
});

t.test('the transaction id: body, Idempotency-Key, or both when equal', async (t) => {
  t.equal(transactionId('a', {}), 'a');
  t.equal(transactionId(undefined, { 'idempotency-key': 'k' }), 'k');
  t.equal(transactionId('k', { 'idempotency-key': 'k' }), 'k');
  t.match(refusal(() => transactionId('a', { 'idempotency-key': 'k' })), { code: TELLER_ERR_ID_MISMATCH.code, status: 400 });
  t.throws(() => transactionId(undefined, {}), /required/);
  t.match(refusal(() => transactionId(undefined, {})), { code: TELLER_ERR_ID_REQUIRED.code, status: 400 });
});

t.test('statement cursors: opaque base64url of the offset, anything else refused', async (t) => {
  for (const offset of [0, 1, 41, 2 ** 40]) t.equal(decodeCursor(encodeCursor(offset)), offset);
  t.match(encodeCursor(1234), /^[A-Za-z0-9_-]+$/);
  for (const bad of ['', '!!', 'bm90LWEtY3Vyc29y', Buffer.from('o-1').toString('base64url'), Buffer.from('o1x').toString('base64url'), 'A'.repeat(40)]) {
    t.match(refusal(() => decodeCursor(bad)), { code: TELLER_ERR_INVALID_CURSOR.code, status: 400 }, `${JSON.stringify(bad)} refused`);
  }
});

t.test('statement pages never end inside an offset, and cover every entry once', async (t) => {
  const { Statements } = await import('../../api/statement.js');
  type Doc = { _id: string; accountId: string; offset: number; type: string; id: string };
  const docs: Doc[] = [];
  // Offsets 0..9; at 4 and 7 the decision comes with two lapsed holds before it (same offset).
  for (let o = 0; o < 10; o++) {
    if (o === 4 || o === 7) for (const n of [0, 1]) docs.push({ _id: `0:${o}:${n}:h${o}${n}~expired`, accountId: 'a', offset: o, type: 'expire', id: `h${o}${n}~expired` });
    docs.push({ _id: `0:${o}`, accountId: 'a', offset: o, type: 'deposit', id: `d${o}` });
    docs.push({ _id: `0:${o}b`, accountId: 'b', offset: o, type: 'deposit', id: `other${o}` });
  }
  // Just enough of a collection: equality and $lt filters, a sort on offset, a limit (0: none).
  const collection = {
    find(filter: { accountId: string; offset?: number | { $lt: number } }, o: { limit: number }) {
      const hit = docs
        .filter((d) => d.accountId === filter.accountId)
        .filter((d) => (filter.offset === undefined ? true : typeof filter.offset === 'number' ? d.offset === filter.offset : d.offset < filter.offset.$lt))
        .sort((x, y) => y.offset - x.offset || (x._id < y._id ? 1 : -1));
      return { toArray: async () => (o.limit > 0 ? hit.slice(0, o.limit) : hit) };
    },
  };
  const statements = new Statements(collection as never);
  for (const limit of [1, 2, 3, 4, 5, 14, 100]) {
    const seen: string[] = [];
    let cursor: number | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await statements.page('a', limit, cursor);
      seen.push(...page.entries.map((d) => d.id));
      const offsets = page.entries.map((d) => d.offset);
      if (page.next === undefined) break;
      cursor = decodeCursor(page.next);
      t.equal(cursor, offsets[offsets.length - 1], `limit ${limit}: the cursor is the last offset of the page`);
    }
    t.same(
      seen,
      ['d9', 'd8', 'd7', 'h70~expired', 'h71~expired', 'd6', 'd5', 'd4', 'h40~expired', 'h41~expired', 'd3', 'd2', 'd1', 'd0'],
      `limit ${limit}: newest first, each entry once, a decision before the lapses it triggered`,
    );
  }
});

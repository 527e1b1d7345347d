// GET /v1/transfers/:id over the real read model (api/readmodel.ts) with
// Redis and the ledger in memory: the debit by the registry of ids while
// Redis holds it, else by the ledger's documents of type `transfer`; then
// its credit and its return by the ids their owners gave them.
import t from 'tap';
import { ApiKeyAuth, parseApiKeys } from '../../api/auth.js';
import { ReadModel } from '../../api/readmodel.js';
import { creditIdOf, returnIdOf } from '../../api/transfer-view.js';
import { encodeStoredOutcome, keys } from '../../common/read-model.js';
import { outcomeOfDocument } from '../../common/ledger-outcome.js';
import type { LedgerDoc, TxType } from '../../common/types.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { build, PROBLEM } from '../helpers/in-memory-app.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';

const DEBITED = Date.UTC(2025, 4, 6, 7, 8, 9);
const iso = (ms: number) => new Date(ms).toISOString();

/** Redis as the read model reads it: plain keys, and every partition whole. */
function redisOf(values: Map<string, string>) {
  return {
    get: async (key: string) => values.get(key) ?? null,
    hmget: async () => [],
    exists: async (...markers: string[]) => markers.length,
  } as unknown as ConstructorParameters<typeof ReadModel>[0];
}

let offset = 0;
/** A decision document of the ledger, as an owner writes one. */
function doc(type: TxType, id: string, accountId: string, extra: Partial<LedgerDoc> = {}): LedgerDoc & { type: TxType } {
  offset++;
  return {
    _id: `0:${offset}`,
    id,
    accountId,
    type,
    amount: 25,
    status: 'applied',
    balanceAfter: 0,
    reservedAfter: 0,
    partition: 0,
    offset,
    receivedAt: DEBITED - 5,
    decidedAt: DEBITED,
    ...extra,
  };
}

const debitDoc = (id: string, extra: Partial<LedgerDoc> = {}) => doc('transfer', id, 'a', { counterparty: 'b', reference: 'ref-1', ...extra });
const creditDoc = (id: string, status: 'applied' | 'denied', decidedAt: number) =>
  doc('transfer_credit', creditIdOf({ id, accountId: 'a', decidedAt: DEBITED }), 'b', { counterparty: 'a', transferId: id, status, decidedAt, ...(status === 'denied' ? { reason: 'account_closed' } : {}) });
const returnDoc = (id: string, decidedAt: number) => doc('transfer_return', returnIdOf({ id, decidedAt: DEBITED }), 'a', { counterparty: 'b', transferId: id, decidedAt });

async function app(t: Parameters<typeof build>[0], docs: LedgerDoc[], redis = new Map<string, string>(), auth?: ApiKeyAuth) {
  const ledger = new MemoryLedger();
  ledger.insert(docs);
  const readModel = new ReadModel(redisOf(redis), () => 4, ledger.finder as never);
  return (await build(t, auth ? { readModel, auth } : { readModel })).app;
}

const get = (id: string) => ({ method: 'GET' as const, url: `/v1/transfers/${encodeURIComponent(id)}` });

t.test('from Redis: the registry names `from`, the owners stored both legs; the ledger is not needed', async (t) => {
  const debit = outcomeOfDocument(debitDoc('t1', { metadata: { k: 'v' } }));
  const credit = outcomeOfDocument(creditDoc('t1', 'applied', DEBITED + 3));
  const redis = new Map([
    [keys.txId('t1'), 'a'],
    [keys.outcome('a', 't1'), encodeStoredOutcome(debit)],
    [keys.outcome('b', credit.id), encodeStoredOutcome(credit)],
  ]);
  const r = await (await app(t, [], redis)).inject(get('t1'));
  t.equal(r.statusCode, 200);
  t.same(r.json(), {
    id: 't1',
    from: 'a',
    to: 'b',
    amount: 25,
    status: 'completed',
    reference: 'ref-1',
    metadata: { k: 'v' },
    debitedAt: iso(DEBITED),
    creditedAt: iso(DEBITED + 3),
  });
});

t.test('from the ledger, once Redis has let the ids go: completed, returned, denied, debited', async (t) => {
  const docs = [
    debitDoc('done'),
    creditDoc('done', 'applied', DEBITED + 1),
    debitDoc('back'),
    creditDoc('back', 'denied', DEBITED + 2),
    returnDoc('back', DEBITED + 4),
    debitDoc('poor', { status: 'denied', reason: 'insufficient_funds' }),
    debitDoc('flying'),
    // The same id as a deposit on another account: not a transfer, and not what the lookup answers.
    doc('deposit', 'flying', 'z', { decidedAt: DEBITED + 60_000 }),
  ];
  const server = await app(t, docs);
  t.match((await server.inject(get('done'))).json(), { status: 'completed', creditedAt: iso(DEBITED + 1) });
  t.match((await server.inject(get('back'))).json(), { status: 'returned', reason: 'account_closed', returnedAt: iso(DEBITED + 4) });
  t.same((await server.inject(get('poor'))).json(), { id: 'poor', from: 'a', to: 'b', amount: 25, status: 'denied', reason: 'insufficient_funds', reference: 'ref-1' });
  const flying = (await server.inject(get('flying'))).json();
  t.match(flying, { id: 'flying', from: 'a', status: 'debited', debitedAt: iso(DEBITED) });
  t.notOk('creditedAt' in flying);
});

t.test('registered and decided nowhere yet: pending; unknown, or a deposit\'s id: 404 problem', async (t) => {
  const server = await app(t, [doc('deposit', 'd1', 'a')], new Map([[keys.txId('t9'), 'a']]));
  t.same((await server.inject(get('t9'))).json(), { id: 't9', from: 'a', status: 'pending' });
  for (const id of ['nowhere', 'd1']) {
    const r = await server.inject(get(id));
    t.equal(r.statusCode, 404, id);
    t.match(r.headers['content-type'], PROBLEM);
    t.same(r.json(), { type: 'urn:teller:problem:transfer-not-found', title: 'Not Found', status: 404, detail: `no transfer ${id}` });
  }
});

t.test('a key limited to accounts sees the transfers that debit or credit one of them, and no other', async (t) => {
  const [fromKey, toKey, otherKey] = [mintKey(), mintKey(), mintKey()];
  const auth = new ApiKeyAuth(parseApiKeys([apiKeyEntry(fromKey, ['a']), apiKeyEntry(toKey, ['b']), apiKeyEntry(otherKey, ['z'])].join(';')));
  const server = await app(t, [debitDoc('seen'), creditDoc('seen', 'applied', DEBITED + 1)], new Map(), auth);
  const as = (key: string) => ({ ...get('seen'), headers: { authorization: `Bearer ${key}` } });
  t.match((await server.inject(as(fromKey))).json(), { id: 'seen', status: 'completed' }, 'the debited account');
  t.match((await server.inject(as(toKey))).json(), { id: 'seen', status: 'completed' }, 'the credited account');
  const hidden = await server.inject(as(otherKey));
  t.equal(hidden.statusCode, 404, 'another account learns nothing');
  t.match(hidden.json(), { type: 'urn:teller:problem:transfer-not-found' });
});

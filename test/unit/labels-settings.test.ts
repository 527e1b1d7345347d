// References and metadata on every v1 write, and PUT /v1/accounts/:accountId
// (docs/transfers.md), through the whole HTTP app with in-memory
// collaborators: what the message carries, what the client is answered, and
// the 400 problems of bad input, which send nothing.
import t from 'tap';
import type { StatementPage } from '../../api/statement.js';
import type { LedgerDoc } from '../../common/types.js';
import { applied, build, DECIDED_AT, PROBLEM } from '../helpers/in-memory-app.js';

const metadata = { order: 'o-1', 'shop-id': 's_2' };

t.test('every write carries a reference and metadata into its message and its answer', async (t) => {
  const { app, log } = await build(t);
  const labels = { reference: 'ext-1', metadata };
  const writes: [string, object][] = [
    ['/v1/accounts/a/deposits', { id: 'd1', amount: 10, ...labels }],
    ['/v1/accounts/a/withdrawal-requests', { id: 'r1', amount: 5, ...labels }],
    ['/v1/accounts/a/withdrawals', { id: 'w1', amount: 5, requestId: 'r1', ...labels }],
    ['/v1/accounts/a/withdrawal-requests/r1/cancel', { id: 'c1', ...labels }],
  ];
  for (const [url, payload] of writes) {
    const r = await app.inject({ method: 'POST', url, payload });
    t.ok(r.statusCode < 300, `${url}: ${r.statusCode}`);
    t.match(r.json(), labels, `${url}: answered`);
  }
  t.same(log.sent.map((m) => [m.id, m.reference, m.metadata]), writes.map(([, p]) => [(p as { id: string }).id, 'ext-1', metadata]));

  log.decide = () => undefined;
  const accepted = await app.inject({ method: 'POST', url: '/v1/accounts/a/deposits', payload: { id: 'd2', amount: 1, ...labels } });
  t.equal(accepted.statusCode, 202);
  t.match(accepted.json(), { status: 'pending', ...labels }, 'a 202 names them too');
});

t.test('bad references and metadata: 400 problem naming the field, nothing sent', async (t) => {
  const { app, log } = await build(t);
  const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
  const cases: [string, object, string][] = [
    ['an empty reference', { reference: '' }, 'body/reference'],
    ['a reference of 129 characters', { reference: 'r'.repeat(129) }, 'body/reference'],
    ['a reference with a newline', { reference: 'a\nb' }, 'body/reference'],
    ['a reference that is not a string', { reference: 12 }, 'body/reference'],
    ['17 metadata keys', { metadata: tooMany }, 'body/metadata'],
    ['a key with a space', { metadata: { 'a b': 'v' } }, 'body/metadata'],
    ['a key with a dot, which the ledger document could not hold', { metadata: { 'a.b': 'v' } }, 'body/metadata'],
    ['a key starting with $', { metadata: { $set: 'v' } }, 'body/metadata'],
    ['a key of 65 characters', { metadata: { ['k'.repeat(65)]: 'v' } }, 'body/metadata'],
    ['a value of 257 characters', { metadata: { k: 'v'.repeat(257) } }, 'body/metadata/k'],
    ['a value that is not a string', { metadata: { k: 1 } }, 'body/metadata/k'],
    ['metadata that is not an object', { metadata: ['a'] }, 'body/metadata'],
  ];
  for (const [what, labels, path] of cases) {
    const r = await app.inject({ method: 'POST', url: '/v1/accounts/a/deposits', payload: { id: 'd1', amount: 1, ...labels } });
    t.equal(r.statusCode, 400, what);
    t.match(r.headers['content-type'], PROBLEM, what);
    t.match(r.json(), { type: 'urn:teller:problem:validation-error', errors: [{ path }] }, what);
  }
  const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}_-`, 'v'.repeat(256)]));
  const edge = await app.inject({ method: 'POST', url: '/v1/accounts/a/deposits', payload: { id: 'd2', amount: 1, reference: 'r'.repeat(128), metadata: sixteen } });
  t.equal(edge.statusCode, 200, 'at the bounds: taken');
  t.same(log.sent.map((m) => m.id), ['d2']);
});

t.test('statements and lookups show the labels and a transfer\'s members; a settings change shows no amount', async (t) => {
  const base = { partition: 0, receivedAt: DECIDED_AT, balanceAfter: 10, reservedAfter: 0, status: 'applied' as const };
  const entries: LedgerDoc[] = [
    { ...base, _id: '0:3', id: 's~1', accountId: 'a', type: 'account_settings', amount: 0, offset: 3, accountStatus: 'frozen' },
    { ...base, _id: '0:2', id: 't1', accountId: 'a', type: 'transfer', amount: 5, offset: 2, counterparty: 'b', reference: 'x', metadata },
  ];
  const statements = { page: async (): Promise<StatementPage> => ({ entries }) };
  const { app, accounts, transactions } = await build(t, { statements });
  accounts.set('a', { accountId: 'a', balance: 10, reserved: 0, updatedAt: DECIDED_AT });
  const page = (await app.inject({ method: 'GET', url: '/v1/accounts/a/transactions' })).json();
  t.match(page.data, [
    { id: 's~1', type: 'account_settings', accountStatus: 'frozen' },
    { id: 't1', type: 'transfer', amount: 5, counterparty: 'b', reference: 'x', metadata },
  ]);
  t.notOk('amount' in page.data[0], 'no amount for a settings change');

  const outcome = { ...applied({ v: 1, id: 'd1', type: 'deposit', accountId: 'a', amount: 3, receivedAt: 0 }), reference: 'ext', metadata };
  transactions.set('d1', { accountId: 'a', outcome });
  t.match((await app.inject({ method: 'GET', url: '/v1/transactions/d1' })).json(), { id: 'd1', reference: 'ext', metadata });
  const minted = 't1~credit~a~1700000000000';
  transactions.set(minted, { accountId: 'b', outcome: { ...outcome, id: minted, accountId: 'b', type: 'transfer_credit', counterparty: 'a', transferId: 't1' } });
  t.match((await app.inject({ method: 'GET', url: `/v1/transactions/${minted}` })).json(), { id: minted, transferId: 't1', counterparty: 'a' }, "an id the system minted is looked up");
});

const put = (payload: object, headers: Record<string, string> = {}) => ({ method: 'PUT' as const, url: '/v1/accounts/a', payload, headers });

t.test('PUT /v1/accounts/:accountId: one account_settings message; 200 with the account once applied', async (t) => {
  const { app, log, accounts } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), amount: undefined, balance: 40, reserved: 10 });
  const r = await app.inject(put({ overdraftLimit: 500, status: 'frozen', reference: 'ticket-9' }));
  t.equal(r.statusCode, 200);
  t.same(r.json(), { accountId: 'a', balance: 40, reserved: 10, available: 530, overdraftLimit: 500, status: 'frozen' });
  const [sent] = log.sent;
  t.match(sent, { type: 'account_settings', accountId: 'a', overdraftLimit: 500, accountStatus: 'frozen', reference: 'ticket-9' });
  t.match(sent!.id, /^settings~[A-Za-z0-9_-]+$/, 'the api mints the id');
  t.notOk('amount' in sent! || 'status' in sent!, 'no amount, and the status travels as accountStatus');
  t.equal(r.headers.location, `/v1/transactions/${encodeURIComponent(sent!.id)}`);

  // A change of the status alone: the overdraft limit as the read model holds it.
  accounts.set('a', { accountId: 'a', balance: 40, reserved: 10, updatedAt: DECIDED_AT, overdraftLimit: 500, status: 'frozen' });
  const reopened = await app.inject(put({ status: 'open' }, { 'idempotency-key': 'reopen-1' }));
  t.same(reopened.json(), { accountId: 'a', balance: 40, reserved: 10, available: 530, overdraftLimit: 500, status: 'open' });
  t.equal(log.sent[1]!.id, 'reopen-1', 'the Idempotency-Key is the id');
  await app.inject(put({ overdraftLimit: 500, status: 'frozen', reference: 'ticket-9' }));
  t.not(log.sent[2]!.id, log.sent[0]!.id, 'each call without a key gets an id of its own');
});

t.test('PUT settings denied, late, or invalid', async (t) => {
  const { app, log } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), amount: undefined, status: 'denied', reason: 'account_not_empty', balance: 70 });
  const denied = await app.inject(put({ status: 'closed' }));
  t.equal(denied.statusCode, 402);
  t.match(denied.json(), { type: 'account_settings', status: 'denied', reason: 'account_not_empty', accountStatus: 'closed' });

  log.decide = () => undefined;
  const late = await app.inject(put({ overdraftLimit: 100 }, { 'idempotency-key': 'late-1' }));
  t.equal(late.statusCode, 202);
  t.match(late.headers.location, /^\/v1\/transactions\/late-1\?body=/);
  t.match(late.json(), { id: 'late-1', status: 'pending', overdraftLimit: 100 });

  const sent = log.sent.length;
  const cases: [string, object, string][] = [
    ['no setting', {}, 'urn:teller:problem:settings-required'],
    ['labels only', { reference: 'r' }, 'urn:teller:problem:settings-required'],
    ['an unknown status', { status: 'suspended' }, 'urn:teller:problem:validation-error'],
    ['a negative limit', { overdraftLimit: -1 }, 'urn:teller:problem:validation-error'],
    ['a limit that is not an integer', { overdraftLimit: '5' }, 'urn:teller:problem:validation-error'],
    ['an unknown field', { balance: 5 }, 'urn:teller:problem:validation-error'],
  ];
  for (const [what, payload, type] of cases) {
    const r = await app.inject(put(payload));
    t.equal(r.statusCode, 400, what);
    t.match(r.headers['content-type'], PROBLEM, what);
    t.match(r.json(), { type, status: 400 }, what);
  }
  const systemKey = await app.inject(put({ status: 'open' }, { 'idempotency-key': 'settings~mine' }));
  t.equal(systemKey.statusCode, 400, 'a client may not name an id with ~');
  t.equal(log.sent.length, sent, 'nothing sent');
});

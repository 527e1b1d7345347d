// POST /v1/transactions/:id/reversal and POST
// /v1/accounts/:accountId/transactions/:id/reversal through the whole HTTP
// app with in-memory collaborators (test/helpers/in-memory-app.ts): the
// message each sends (on the original's account, or for a transfer on `to`
// naming its credit), and every answer a client can get.
import t from 'tap';
import { ApiKeyAuth, parseApiKeys } from '../../api/auth.js';
import { creditIdOf } from '../../api/transfer-view.js';
import type { StatementPage } from '../../api/statement.js';
import type { LedgerDoc, Outcome, TxMessage } from '../../common/types.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { applied, build, DECIDED_AT, PROBLEM } from '../helpers/in-memory-app.js';

const deposit: Outcome = { id: 'd1', accountId: 'acc', type: 'deposit', amount: 100, status: 'applied', balance: 100, reserved: 0, decidedAt: DECIDED_AT - 50 };
const debit: Outcome = { id: 't1', accountId: 'from', type: 'transfer', amount: 60, counterparty: 'to', status: 'applied', balance: 40, reserved: 0, decidedAt: DECIDED_AT - 90 };

/** The owner's answer to a reversal: applied for the amount it names (or `left`), or what `refuse` says. */
function reversalDecision(msg: TxMessage, left = 100, refuse?: Pick<Outcome, 'status' | 'reason'>): Outcome {
  const outcome: Outcome = { ...applied(msg), amount: msg.amount ?? left, balance: 100 - (msg.amount ?? left) };
  if (msg.amount === undefined) outcome.remainder = true;
  return refuse ? { ...outcome, ...refuse, balance: 100 } : outcome;
}

const post = (url: string, payload?: object, headers: Record<string, string> = {}) => ({ method: 'POST' as const, url, headers, ...(payload ? { payload } : {}) });

t.test('a deposit reversed in part: 200, the message on its account naming it, the answer linked to it', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('d1', { accountId: 'acc', outcome: deposit });
  log.decide = (msg) => reversalDecision(msg);
  const r = await app.inject(post('/v1/transactions/d1/reversal', { id: 'rv1', amount: 30, reference: 'refund', metadata: { ticket: '7' } }));
  t.equal(r.statusCode, 200);
  t.equal(r.headers.location, '/v1/transactions/rv1');
  t.match(r.json(), { id: 'rv1', accountId: 'acc', type: 'reversal', requestId: 'd1', amount: 30, status: 'applied', balance: 70, reference: 'refund', metadata: { ticket: '7' } });
  t.match(log.sent, [{ id: 'rv1', type: 'reversal', accountId: 'acc', requestId: 'd1', amount: 30, reference: 'refund', metadata: { ticket: '7' }, callId: String }]);
});

t.test('all that is left: no amount, and with the id as Idempotency-Key no body at all', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('d1', { accountId: 'acc', outcome: deposit });
  log.decide = (msg) => reversalDecision(msg, 70);
  const r = await app.inject(post('/v1/accounts/acc/transactions/d1/reversal', undefined, { 'idempotency-key': 'rv2' }));
  t.equal(r.statusCode, 200);
  t.match(r.json(), { id: 'rv2', amount: 70, status: 'applied', requestId: 'd1' });
  t.notOk('amount' in log.sent[0]!, 'the message names no amount: the owner takes what is left');
});

t.test('the account route sends to that account even when nothing there is known yet; its owner answers 404 and why', async (t) => {
  const { app, log } = await build(t);
  log.decide = (msg) => reversalDecision(msg, 0, { status: 'not_found', reason: 'original_not_found' });
  const r = await app.inject(post('/v1/accounts/acc/transactions/ghost/reversal', { id: 'rv3' }));
  t.equal(r.statusCode, 404);
  t.match(r.headers['content-type'], PROBLEM);
  t.match(r.json(), { type: 'urn:teller:problem:original-not-found', requestId: 'ghost', reason: 'original_not_found' });
  t.match(log.sent, [{ accountId: 'acc', requestId: 'ghost' }]);
  log.decide = (msg) => reversalDecision(msg, 0, { status: 'not_found', reason: 'not_reversible' });
  const notReversible = await app.inject(post('/v1/accounts/acc/transactions/req1/reversal', { id: 'rv4' }));
  t.equal(notReversible.statusCode, 404);
  t.match(notReversible.json(), { type: 'urn:teller:problem:not-reversible', requestId: 'req1', reason: 'not_reversible' });
});

t.test('without an account, an id nobody knows is 404 and nothing is sent', async (t) => {
  const { app, log } = await build(t);
  const r = await app.inject(post('/v1/transactions/ghost/reversal', { id: 'rv5' }));
  t.equal(r.statusCode, 404);
  t.match(r.json(), { type: 'urn:teller:problem:transaction-not-found' });
  t.equal(log.sent.length, 0);
});

t.test('more than is left: 402 with the decision; another body under the id: 409; a repeat: 200 marked replayed', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('d1', { accountId: 'acc', outcome: deposit });
  log.decide = (msg) => reversalDecision(msg, 100, { status: 'denied', reason: 'exceeds_original' });
  const tooMuch = await app.inject(post('/v1/transactions/d1/reversal', { id: 'rv6', amount: 500 }));
  t.equal(tooMuch.statusCode, 402);
  t.match(tooMuch.json(), { id: 'rv6', status: 'denied', reason: 'exceeds_original', amount: 500, requestId: 'd1' });
  log.decide = (msg) => ({ ...reversalDecision(msg), status: 'conflict', reason: 'id_reused' });
  const conflict = await app.inject(post('/v1/transactions/d1/reversal', { id: 'rv6', amount: 5 }));
  t.equal(conflict.statusCode, 409);
  t.match(conflict.json(), { type: 'urn:teller:problem:id-reused' });
  log.decide = (msg) => ({ ...reversalDecision(msg), replayed: true });
  const again = await app.inject(post('/v1/transactions/d1/reversal', { id: 'rv7', amount: 5 }));
  t.equal(again.statusCode, 200);
  t.equal(again.headers['idempotent-replayed'], 'true');
});

t.test('Prefer: respond-async: 202 at once, at the Location of this body', async (t) => {
  const { app, transactions } = await build(t);
  transactions.set('d1', { accountId: 'acc', outcome: deposit });
  const r = await app.inject(post('/v1/transactions/d1/reversal', { id: 'rv8', amount: 5 }, { prefer: 'respond-async' }));
  t.equal(r.statusCode, 202);
  t.match(r.headers.location, /^\/v1\/transactions\/rv8\?body=[0-9a-f]{20}$/);
  t.match(r.json(), { id: 'rv8', type: 'reversal', requestId: 'd1', amount: 5, status: 'pending' });
});

t.test("a completed transfer is reversed through its credit: the reversal goes to `to`, naming the credit's id", async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('t1', { accountId: 'from', outcome: debit });
  log.decide = (msg) => reversalDecision(msg, 60);
  const r = await app.inject(post('/v1/transactions/t1/reversal', { id: 'rv9' }));
  t.equal(r.statusCode, 200);
  t.match(log.sent, [{ id: 'rv9', type: 'reversal', accountId: 'to', requestId: creditIdOf(debit) }]);
  t.equal(creditIdOf(debit), `t1~credit~from~${DECIDED_AT - 90}`);
  t.match(r.json(), { id: 'rv9', accountId: 'to', requestId: creditIdOf(debit), amount: 60 });
  const byAccount = await app.inject(post('/v1/accounts/from/transactions/t1/reversal', { id: 'rv10', amount: 10 }));
  t.equal(byAccount.statusCode, 200);
  t.match(log.sent[1], { accountId: 'to', requestId: creditIdOf(debit), amount: 10 }, 'the same by the account of the debit');
});

t.test('a transfer whose debit was denied has no credit: its own owner is asked, and says it cannot be reversed', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('t2', { accountId: 'from', outcome: { ...debit, id: 't2', status: 'denied', reason: 'insufficient_funds' } });
  log.decide = (msg) => reversalDecision(msg, 0, { status: 'not_found', reason: 'not_reversible' });
  const r = await app.inject(post('/v1/transactions/t2/reversal', { id: 'rv11' }));
  t.equal(r.statusCode, 404);
  t.match(log.sent, [{ accountId: 'from', requestId: 't2' }]);
});

t.test('GET of the original shows what was reversed', async (t) => {
  const { app, transactions } = await build(t);
  transactions.set('d1', { accountId: 'acc', outcome: { ...deposit, reversed: 30 } });
  const r = await app.inject({ method: 'GET', url: '/v1/transactions/d1' });
  t.equal(r.statusCode, 200);
  t.match(r.json(), { id: 'd1', type: 'deposit', amount: 100, reversed: 30 });
});

t.test('a statement shows each reversal with the transaction it undid', async (t) => {
  const base = { partition: 0, accountId: 'acc', receivedAt: DECIDED_AT, reservedAfter: 0, status: 'applied' as const };
  const entries: LedgerDoc[] = [
    { ...base, _id: '0:5', id: 'rv2', type: 'reversal', amount: 70, requestId: 'd1', remainder: true, balanceAfter: 0, offset: 5 },
    { ...base, _id: '0:4', id: 'rv1', type: 'reversal', amount: 30, requestId: 'd1', reference: 'refund', balanceAfter: 70, offset: 4 },
    { ...base, _id: '0:3', id: 'd1', type: 'deposit', amount: 100, balanceAfter: 100, offset: 3 },
  ];
  const statements = { page: async (): Promise<StatementPage> => ({ entries }) };
  const { app, accounts } = await build(t, { statements });
  accounts.set('acc', { accountId: 'acc', balance: 0, reserved: 0, updatedAt: DECIDED_AT });
  const page = (await app.inject({ method: 'GET', url: '/v1/accounts/acc/transactions' })).json();
  t.match(page.data, [
    { id: 'rv2', type: 'reversal', amount: 70, requestId: 'd1', balanceAfter: 0 },
    { id: 'rv1', type: 'reversal', amount: 30, requestId: 'd1', reference: 'refund', balanceAfter: 70 },
    { id: 'd1', type: 'deposit', amount: 100 },
  ]);
});

t.test('bad input changes nothing: 400, nothing sent', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('d1', { accountId: 'acc', outcome: deposit });
  for (const payload of [{ id: 'rv', amount: 0 }, { id: 'rv', amount: 1.5 }, { id: 'rv', extra: 1 }, { id: 'r~v' }, { id: 'rv', reference: '' }]) {
    const r = await app.inject(post('/v1/transactions/d1/reversal', payload));
    t.equal(r.statusCode, 400, JSON.stringify(payload));
  }
  t.equal((await app.inject(post('/v1/transactions/d1/reversal', {}))).statusCode, 400, 'no id anywhere');
  t.equal((await app.inject(post('/v1/transactions/d~1/reversal', { id: 'rv' }))).statusCode, 400, 'an original id a client cannot name');
  t.equal(log.sent.length, 0);
});

t.test('a key limited to accounts acts only on its own: the account reversed, and for a transfer the account debited', async (t) => {
  const key = mintKey();
  const { app, log, transactions } = await build(t, { auth: new ApiKeyAuth(parseApiKeys(apiKeyEntry(key, ['from', 'acc']))) });
  const headers = { authorization: `Bearer ${key}` };
  transactions.set('t1', { accountId: 'from', outcome: debit });
  transactions.set('x1', { accountId: 'elsewhere', outcome: { ...deposit, id: 'x1', accountId: 'elsewhere' } });
  const transferred = await app.inject(post('/v1/transactions/t1/reversal', { id: 'rv12' }, headers));
  t.equal(transferred.statusCode, 403, 'reversing the transfer debits `to`');
  t.equal((await app.inject(post('/v1/accounts/from/transactions/t1/reversal', { id: 'rv13' }, headers))).statusCode, 403);
  const hidden = await app.inject(post('/v1/transactions/x1/reversal', { id: 'rv14' }, headers));
  t.equal(hidden.statusCode, 404, 'another account learns nothing');
  t.equal((await app.inject(post('/v1/accounts/elsewhere/transactions/x1/reversal', { id: 'rv15' }, headers))).statusCode, 403);
  t.equal(log.sent.length, 0);
});

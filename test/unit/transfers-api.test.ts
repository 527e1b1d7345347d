// POST /v1/transfers through the whole HTTP app with in-memory collaborators
// (test/helpers/in-memory-app.ts): the call waits for both legs, the debit
// under its token and the credit under the other (docs/transfers.md), and
// answers as a client sees it.
import t from 'tap';
import { ApiKeyAuth, parseApiKeys } from '../../api/auth.js';
import { creditIdOf } from '../../api/transfer-view.js';
import type { Outcome, TxMessage } from '../../common/types.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { applied, build, DECIDED_AT, PROBLEM } from '../helpers/in-memory-app.js';

const CREDITED_AT = DECIDED_AT + 7;

/** The owner of `to`'s answer to the credit of `msg`'s debit. */
function creditOf(msg: TxMessage, debit: Outcome, status: 'applied' | 'denied' = 'applied'): Outcome {
  const credit: Outcome = {
    id: creditIdOf(debit),
    accountId: msg.counterparty!,
    type: 'transfer_credit',
    amount: msg.amount!,
    counterparty: msg.accountId,
    transferId: msg.id,
    status,
    balance: status === 'applied' ? msg.amount! : 0,
    reserved: 0,
    decidedAt: CREDITED_AT,
  };
  if (status === 'denied') credit.reason = 'account_closed';
  return credit;
}

const post = (payload: object, headers: Record<string, string> = {}) => ({ method: 'POST' as const, url: '/v1/transfers', payload, headers });

t.test('the debit denied: 402 with its reason; nothing waits for a credit', async (t) => {
  const { app, log } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), status: 'denied', reason: 'insufficient_funds', balance: 5 });
  let credits = 0;
  log.credit = () => (credits++, undefined);
  const r = await app.inject(post({ id: 't1', from: 'a', to: 'b', amount: 100 }));
  t.equal(r.statusCode, 402);
  t.equal(r.headers.location, '/v1/transfers/t1');
  t.same(r.json(), { id: 't1', from: 'a', to: 'b', amount: 100, status: 'denied', reason: 'insufficient_funds' });
  t.equal(credits, 0, 'no credit for a denied debit');
  const [sent] = log.sent;
  t.match(sent, { id: 't1', type: 'transfer', accountId: 'a', counterparty: 'b', amount: 100, replyTo: 'test', callId: String, creditCallId: String });
  t.not(sent!.callId, sent!.creditCallId, 'each leg has its own token');
});

t.test('the debit applied, then the credit: 200 completed, with both times, the reference and the metadata', async (t) => {
  const { app, log } = await build(t);
  log.credit = (msg, debit) => creditOf(msg, debit);
  const metadata = { invoice: 'inv-7', 'order-id': '42' };
  const r = await app.inject(post({ id: 't2', from: 'a', to: 'b', amount: 30, reference: 'rent march', metadata }));
  t.equal(r.statusCode, 200);
  t.equal(r.headers.location, '/v1/transfers/t2');
  t.same(r.json(), {
    id: 't2',
    from: 'a',
    to: 'b',
    amount: 30,
    status: 'completed',
    reference: 'rent march',
    metadata,
    debitedAt: new Date(DECIDED_AT).toISOString(),
    creditedAt: new Date(CREDITED_AT).toISOString(),
  });
  t.match(log.sent, [{ reference: 'rent march', metadata }], 'the labels travel in the message');
});

t.test('the credit refused: 402 returned, with the credit\'s reason', async (t) => {
  const { app, log } = await build(t);
  log.credit = (msg, debit) => creditOf(msg, debit, 'denied');
  const r = await app.inject(post({ id: 't3', from: 'a', to: 'closed', amount: 30 }));
  t.equal(r.statusCode, 402);
  t.match(r.json(), { id: 't3', status: 'returned', reason: 'account_closed', debitedAt: String });
  t.notOk('creditedAt' in r.json(), 'never credited');
});

t.test('no credit in time: 202 debited, at the transfer\'s Location; no debit in time: 202 pending', async (t) => {
  const { app, log } = await build(t);
  const debited = await app.inject(post({ id: 't4', from: 'a', to: 'b', amount: 30 }));
  t.equal(debited.statusCode, 202);
  t.equal(debited.headers.location, '/v1/transfers/t4');
  t.match(debited.json(), { id: 't4', status: 'debited', debitedAt: String });

  log.decide = () => undefined;
  const pending = await app.inject(post({ id: 't5', from: 'a', to: 'b', amount: 30, reference: 'ref' }));
  t.equal(pending.statusCode, 202);
  t.same(pending.json(), { id: 't5', from: 'a', to: 'b', amount: 30, status: 'pending', reference: 'ref' });
});

t.test('Prefer: respond-async: 202 pending at once, and the message asks for no announcement', async (t) => {
  const { app, log } = await build(t);
  const r = await app.inject(post({ from: 'a', to: 'b', amount: 1 }, { 'idempotency-key': 't6', prefer: 'respond-async' }));
  t.equal(r.statusCode, 202);
  t.equal(r.headers['preference-applied'], 'respond-async');
  t.match(r.json(), { id: 't6', status: 'pending' });
  t.notOk(log.sent[0]!.callId ?? log.sent[0]!.creditCallId, 'no token');
});

t.test('a repeat of a completed transfer: no credit is announced; it is read back by the id the debit gives it', async (t) => {
  const { app, log, transactions } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), replayed: true });
  log.credit = () => t.fail('no credit is minted for a repeat');
  const first: TxMessage = { v: 1, id: 't7', type: 'transfer', accountId: 'a', counterparty: 'b', amount: 30, receivedAt: 0 };
  const stored = creditOf(first, applied(first));
  t.equal(stored.id, `t7~credit~a~${DECIDED_AT}`, "the credit id: the transfer's, from, the debit's decidedAt");
  transactions.set(stored.id, { accountId: 'b', outcome: stored });
  const r = await app.inject(post({ id: 't7', from: 'a', to: 'b', amount: 30 }));
  t.equal(r.statusCode, 200);
  t.equal(r.headers['idempotent-replayed'], 'true');
  t.match(r.json(), { id: 't7', status: 'completed', replayed: true, creditedAt: new Date(CREDITED_AT).toISOString() });
});

t.test('a repeat whose credit is stored while it waits reads it then; one never stored answers 202 debited', async (t) => {
  const { app, log, transactions } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), replayed: true });
  const creditId = creditIdOf({ id: 't8', accountId: 'a', decidedAt: DECIDED_AT });
  const later = setTimeout(() => {
    const msg: TxMessage = { v: 1, id: 't8', type: 'transfer', accountId: 'a', counterparty: 'b', amount: 9, receivedAt: 0 };
    transactions.set(creditId, { accountId: 'b', outcome: creditOf(msg, applied(msg), 'denied') });
  }, 10);
  t.teardown(() => clearTimeout(later));
  const returned = await app.inject(post({ id: 't8', from: 'a', to: 'b', amount: 9 }));
  t.equal(returned.statusCode, 402);
  t.match(returned.json(), { status: 'returned', reason: 'account_closed' });

  const missing = await app.inject(post({ id: 't9', from: 'a', to: 'b', amount: 9 }));
  t.equal(missing.statusCode, 202);
  t.match(missing.json(), { id: 't9', status: 'debited' });
});

t.test('the same id with another body: 409; on another account: refused by the registry before the log', async (t) => {
  const { app, log } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), status: 'conflict', reason: 'id_reused' });
  const conflict = await app.inject(post({ id: 'x1', from: 'a', to: 'b', amount: 5 }));
  t.equal(conflict.statusCode, 409);
  t.match(conflict.headers['content-type'], PROBLEM);
  t.equal(conflict.headers.location, undefined);
  const sent = log.sent.length;
  const elsewhere = await app.inject(post({ id: 'x1', from: 'c', to: 'b', amount: 5 }));
  t.equal(elsewhere.statusCode, 409);
  t.match(elsewhere.json(), { detail: /another account/ });
  t.equal(log.sent.length, sent);
});

t.test('invalid transfers: 400 problem, nothing sent', async (t) => {
  const { app, log } = await build(t);
  const cases: [string, object, string][] = [
    ['no to', { id: 'b1', from: 'a', amount: 5 }, 'body'],
    ['a bad from', { id: 'b2', from: 'a b', to: 'b', amount: 5 }, 'body/from'],
    ['amount 0', { id: 'b3', from: 'a', to: 'b', amount: 0 }, 'body/amount'],
    ['a system id', { id: 'b4~credit', from: 'a', to: 'b', amount: 5 }, 'body/id'],
    ['a reference with a control character', { id: 'b5', from: 'a', to: 'b', amount: 5, reference: 'a\u0007b' }, 'body/reference'],
    ['an unknown field', { id: 'b6', from: 'a', to: 'b', amount: 5, accountId: 'a' }, 'body'],
  ];
  for (const [what, payload, path] of cases) {
    const r = await app.inject(post(payload));
    t.equal(r.statusCode, 400, what);
    t.match(r.headers['content-type'], PROBLEM, what);
    t.match(r.json(), { type: 'urn:teller:problem:validation-error', errors: [{ path }] }, what);
  }
  const noId = await app.inject(post({ from: 'a', to: 'b', amount: 5 }));
  t.match(noId.json(), { status: 400, type: 'urn:teller:problem:id-required' });
  t.equal(log.sent.length, 0);
});

t.test('an API key limited to accounts debits only those, and may credit any', async (t) => {
  const key = mintKey();
  const { app, log } = await build(t, { auth: new ApiKeyAuth(parseApiKeys(apiKeyEntry(key, ['mine']))) });
  log.credit = (msg, debit) => creditOf(msg, debit);
  const headers = { authorization: `Bearer ${key}` };
  const forbidden = await app.inject(post({ id: 'k1', from: 'theirs', to: 'mine', amount: 5 }, headers));
  t.equal(forbidden.statusCode, 403);
  t.match(forbidden.json(), { type: 'urn:teller:problem:forbidden' });
  const allowed = await app.inject(post({ id: 'k2', from: 'mine', to: 'theirs', amount: 5 }, headers));
  t.equal(allowed.statusCode, 200);
  t.same(log.sent.map((m) => m.id), ['k2']);
});

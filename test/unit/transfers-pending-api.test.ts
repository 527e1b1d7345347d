// Two-phase transfers through the whole HTTP app with in-memory collaborators
// (test/helpers/in-memory-app.ts): POST /v1/transfers with `pending`, its
// post and void, and GET /v1/transfers/:id of each state (docs/transfers.md,
// Two-phase transfers).
import t from 'tap';
import { creditId } from '../../common/transfer-ids.js';
import type { Outcome, TxMessage } from '../../common/types.js';
import { applied, build, DECIDED_AT, PROBLEM } from '../helpers/in-memory-app.js';

const POSTED_AT = DECIDED_AT + 1_000;
const CREDITED_AT = POSTED_AT + 7;
const iso = (ms: number) => new Date(ms).toISOString();

/** The pending transfer tp1 from a to b of 50, as its owner stored it. */
function held(status: Outcome['status'] = 'approved'): Outcome {
  return { id: 'tp1', accountId: 'a', type: 'transfer', amount: 50, counterparty: 'b', pending: true, expiresInSeconds: 3600, status, balance: 100, reserved: 50, decidedAt: DECIDED_AT };
}

/** The owner's answer to a post of tp1: applied, the amount named or the whole hold. */
function posted(msg: TxMessage): Outcome {
  const amount = msg.amount ?? 50;
  return { ...applied(msg), status: 'applied', postedAmount: amount, counterparty: 'b', balance: 100 - amount, reserved: 0, decidedAt: POSTED_AT };
}

/** The owner of b's answer to the credit a post minted. */
function creditOf(post: Outcome, status: 'applied' | 'denied' = 'applied'): Outcome {
  const credit: Outcome = { id: creditId('tp1', 'a', post.decidedAt), accountId: 'b', type: 'transfer_credit', amount: post.postedAmount, counterparty: 'a', transferId: 'tp1', status, balance: 0, reserved: 0, decidedAt: CREDITED_AT };
  if (status === 'denied') credit.reason = 'account_closed';
  return credit;
}

const call = (url: string, payload: object = {}, headers: Record<string, string> = {}) => ({ method: 'POST' as const, url, payload, headers });

t.test('a pending transfer held: 201, the hold stays open; its message carries pending and a time to live, and no credit token', async (t) => {
  const { app, log } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), status: 'approved', balance: 100, reserved: 50 });
  const r = await app.inject(call('/v1/transfers', { id: 'tp1', from: 'a', to: 'b', amount: 50, pending: true }));
  t.equal(r.statusCode, 201);
  t.equal(r.headers.location, '/v1/transfers/tp1');
  t.same(r.json(), { id: 'tp1', from: 'a', to: 'b', amount: 50, status: 'pending', pending: true, heldAt: iso(DECIDED_AT) });
  const [sent] = log.sent;
  t.match(sent, { type: 'transfer', accountId: 'a', counterparty: 'b', amount: 50, pending: true, expiresInSeconds: 3600, expiresAt: Number, callId: String });
  t.notOk('creditCallId' in sent!, 'nothing is credited until the post');
  t.notOk('holdLimit' in sent!);
});

t.test('a pending transfer denied: 402; a time to live is bounded by the id window and needs pending', async (t) => {
  const { app, log } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), status: 'denied', reason: 'insufficient_funds', balance: 10 });
  const denied = await app.inject(call('/v1/transfers', { id: 'tp1', from: 'a', to: 'b', amount: 50, pending: true, expiresInSeconds: 60 }));
  t.strictSame([denied.statusCode, denied.json().status, denied.json().reason], [402, 'denied', 'insufficient_funds']);
  t.equal(log.sent[0]?.expiresInSeconds, 60, 'the time to live asked for');
  const long = await app.inject(call('/v1/transfers', { id: 'tp2', from: 'a', to: 'b', amount: 5, pending: true, expiresInSeconds: 7201 }));
  t.strictSame([long.statusCode, long.json().type], [400, 'urn:teller:problem:hold-outlives-id']);
  t.match(long.headers['content-type'], PROBLEM);
  const single = await app.inject(call('/v1/transfers', { id: 'tp3', from: 'a', to: 'b', amount: 5, expiresInSeconds: 60 }));
  t.strictSame([single.statusCode, single.json().type], [400, 'urn:teller:problem:ttl-without-hold']);
  t.equal(log.sent.length, 1, 'nothing sent for a bad call');
});

t.test('a post of the whole hold: its message names the transfer on from; 200 completed once credited', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('tp1', { accountId: 'a', outcome: held() });
  log.decide = posted;
  log.credit = (_msg, post) => creditOf(post);
  const r = await app.inject(call('/v1/transfers/tp1/post', {}, { 'idempotency-key': 'po1' }));
  t.equal(r.statusCode, 200);
  t.equal(r.headers.location, '/v1/transfers/tp1');
  t.same(r.json(), { id: 'tp1', from: 'a', to: 'b', amount: 50, status: 'completed', pending: true, heldAt: iso(DECIDED_AT), debitedAt: iso(POSTED_AT), creditedAt: iso(CREDITED_AT) });
  const [sent] = log.sent;
  t.match(sent, { id: 'po1', type: 'transfer_post', accountId: 'a', requestId: 'tp1', callId: String, creditCallId: String });
  t.notOk('amount' in sent!, 'no amount: the whole hold');
});

t.test('a post of part of the hold: the amount posted is the transfer\'s', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('tp1', { accountId: 'a', outcome: held() });
  log.decide = posted;
  log.credit = (_msg, post) => creditOf(post);
  const r = await app.inject(call('/v1/transfers/tp1/post', { id: 'po1', amount: 20 }));
  t.strictSame([r.statusCode, r.json().status, r.json().amount, log.sent[0]?.amount], [200, 'completed', 20, 20]);
});

t.test('a post of more than the hold: 402 exceeds_pending, the transfer still pending', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('tp1', { accountId: 'a', outcome: held() });
  log.decide = (msg) => ({ ...applied(msg), status: 'denied', reason: 'exceeds_pending', balance: 100, reserved: 50 });
  const r = await app.inject(call('/v1/transfers/tp1/post', { id: 'po1', amount: 51 }));
  t.equal(r.statusCode, 402);
  t.same(r.json(), { id: 'tp1', from: 'a', to: 'b', amount: 50, status: 'pending', pending: true, heldAt: iso(DECIDED_AT), reason: 'exceeds_pending' });
});

t.test('a post after a void, and a void of nothing held: 404 request-not-held problems', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('tp1', { accountId: 'a', outcome: held('voided') });
  log.decide = (msg) => ({ ...applied(msg), status: 'not_found', reason: 'request_not_held', balance: 100, reserved: 0 });
  for (const kind of ['post', 'void']) {
    const r = await app.inject(call(`/v1/transfers/tp1/${kind}`, { id: `${kind}1` }));
    t.strictSame([r.statusCode, r.json().type], [404, 'urn:teller:problem:request-not-held'], kind);
    t.match(r.headers['content-type'], PROBLEM);
  }
});

t.test('a void: 200 voided, with when', async (t) => {
  const { app, log, transactions } = await build(t);
  transactions.set('tp1', { accountId: 'a', outcome: held() });
  log.decide = (msg) => ({ ...applied(msg), status: 'applied', balance: 100, reserved: 0, decidedAt: POSTED_AT });
  const r = await app.inject(call('/v1/transfers/tp1/void', { id: 'vo1' }));
  t.equal(r.statusCode, 200);
  t.same(r.json(), { id: 'tp1', from: 'a', to: 'b', amount: 50, status: 'voided', pending: true, heldAt: iso(DECIDED_AT), voidedAt: iso(POSTED_AT) });
  t.match(log.sent[0], { type: 'transfer_void', accountId: 'a', requestId: 'tp1' });
  t.notOk('creditCallId' in log.sent[0]!, 'a void mints no credit');
});

t.test('a post or void of an unknown transfer: 404 transfer-not-found, nothing sent; an id is required', async (t) => {
  const { app, log, transactions } = await build(t);
  const r = await app.inject(call('/v1/transfers/nope/post', { id: 'po1' }));
  t.strictSame([r.statusCode, r.json().type, log.sent.length], [404, 'urn:teller:problem:transfer-not-found', 0]);
  transactions.set('tp1', { accountId: 'a', outcome: held() });
  const noId = await app.inject(call('/v1/transfers/tp1/void'));
  t.strictSame([noId.statusCode, log.sent.length], [400, 0]);
  const tooMuch = await app.inject(call('/v1/transfers/tp1/void', { id: 'v', amount: 5 }));
  t.strictSame([tooMuch.statusCode, log.sent.length], [400, 0], 'a void takes no amount');
});

t.test('GET /v1/transfers/:id of a two-phase transfer: pending, voided, expired, and after a post a transfer\'s states', async (t) => {
  const { app, transactions } = await build(t);
  const get = async () => (await app.inject({ method: 'GET', url: '/v1/transfers/tp1' })).json();
  transactions.set('tp1', { accountId: 'a', outcome: held() });
  t.match(await get(), { status: 'pending', pending: true, heldAt: iso(DECIDED_AT), amount: 50 });
  transactions.set('tp1', { accountId: 'a', outcome: held('expired') });
  t.match(await get(), { status: 'expired' });
  transactions.set('tp1', { accountId: 'a', outcome: held('voided') });
  transactions.set('vo1', { accountId: 'a', outcome: { ...applied({ v: 1, id: 'vo1', type: 'transfer_void', accountId: 'a', requestId: 'tp1', receivedAt: 1 }), decidedAt: POSTED_AT } });
  t.match(await get(), { status: 'voided', voidedAt: iso(POSTED_AT) });
  transactions.delete('vo1');
  transactions.set('tp1', { accountId: 'a', outcome: held('posted') });
  t.match(await get(), { status: 'debited', amount: 50 }, 'posted, its post not in the ledger yet: the money has left');
  const post = posted({ v: 1, id: 'po1', type: 'transfer_post', accountId: 'a', requestId: 'tp1', amount: 30, receivedAt: 1 });
  transactions.set('po1', { accountId: 'a', outcome: post });
  t.same(await get(), { id: 'tp1', from: 'a', to: 'b', amount: 30, status: 'debited', pending: true, heldAt: iso(DECIDED_AT), debitedAt: iso(POSTED_AT) });
  const credit = creditOf(post, 'denied');
  transactions.set(credit.id, { accountId: 'b', outcome: credit });
  t.match(await get(), { status: 'returned', reason: 'account_closed', amount: 30 });
  transactions.set(credit.id, { accountId: 'b', outcome: { ...credit, status: 'applied', reason: undefined } });
  t.match(await get(), { status: 'completed', amount: 30, creditedAt: iso(CREDITED_AT) });
});

t.test('a repeat of a two-phase transfer answers where it stands: completed after its post, 402 voided', async (t) => {
  const { app, log, transactions } = await build(t);
  const post = posted({ v: 1, id: 'po1', type: 'transfer_post', accountId: 'a', requestId: 'tp1', amount: 30, receivedAt: 1 });
  transactions.set('po1', { accountId: 'a', outcome: post });
  const credit = creditOf(post);
  transactions.set(credit.id, { accountId: 'b', outcome: credit });
  log.decide = () => ({ ...held('posted'), replayed: true });
  const again = { id: 'tp1', from: 'a', to: 'b', amount: 50, pending: true };
  const r = await app.inject(call('/v1/transfers', again));
  t.strictSame([r.statusCode, r.headers['idempotent-replayed'], r.json().status, r.json().amount, r.json().creditedAt], [200, 'true', 'completed', 30, iso(CREDITED_AT)]);
  transactions.delete('po1');
  log.decide = () => ({ ...held('voided'), replayed: true });
  const voided = await app.inject(call('/v1/transfers', again));
  t.strictSame([voided.statusCode, voided.json().status], [402, 'voided']);
});

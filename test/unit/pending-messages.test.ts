// What a two-phase transfer adds to the shared shapes (docs/transfers.md,
// Two-phase transfers): the schema of its messages, the body its repeats are
// judged by, its remembered outcomes, and the later status a ledger document
// gives it.
import t from 'tap';
import { parseMessage } from '../../common/message.js';
import { bodyDigest, digestMatches, sameBody } from '../../common/body.js';
import { recall, remember } from '../../common/remembered.js';
import { outcomeOfDocument, withLaterStatus } from '../../common/ledger-outcome.js';
import type { LedgerDoc, Outcome, TxMessage } from '../../common/types.js';
import { pendingTransfer, transfer, transferPost, transferVoid } from '../helpers/tx.js';

const parses = (msg: object) => parseMessage(JSON.stringify(msg)).ok;

t.test('the schema: pending only on a transfer; a post with or without an amount; a void without; both name the transfer', async (t) => {
  t.ok(parses(pendingTransfer('tp', 'a', 'b', 5)));
  t.notOk(parses({ ...pendingTransfer('tp', 'a', 'b', 5), pending: false }), 'pending is true or absent');
  t.notOk(parses({ v: 1, id: 'd', type: 'deposit', accountId: 'a', amount: 5, receivedAt: 1, pending: true }), 'not on a deposit');
  t.ok(parses(transferPost('po', 'a', 'tp')), 'a post naming no amount');
  t.ok(parses(transferPost('po', 'a', 'tp', 5, { replyTo: 'api-1', callId: 'c.1', creditCallId: 'c.2' })), 'with the tokens of both legs');
  t.notOk(parses({ ...transferPost('po', 'a', 'tp'), requestId: undefined }), 'a post names its transfer');
  t.notOk(parses({ ...transferPost('po', 'a', 'tp'), counterparty: 'b' }), 'a post names no counterparty: the hold holds it');
  t.ok(parses(transferVoid('vo', 'a', 'tp')));
  t.notOk(parses({ ...transferVoid('vo', 'a', 'tp'), amount: 5 }), 'a void carries no amount');
  t.notOk(parses({ ...transferVoid('vo', 'a', 'tp'), creditCallId: 'c.2' }), 'nor a credit token');
  t.notOk(parses({ v: 1, id: 'd', type: 'transfer_void', accountId: 'a', receivedAt: 1 }), 'a void names its transfer');
});

t.test('pending is part of the body; a single-phase body digests as it always did', async (t) => {
  const single = transfer('tr', 'a', 'b', 5);
  const pending = { ...single, pending: true as const };
  t.notOk(sameBody(single, pending), 'the same transfer, two-phase, is another body');
  t.ok(sameBody(pending, { ...pending }));
  t.notOk(digestMatches(bodyDigest(single), pending));
  t.ok(digestMatches(bodyDigest(pending), pending));
  t.equal(bodyDigest(single), bodyDigest({ ...single, pending: undefined }), 'absent and undefined digest alike');
  const post = transferPost('po', 'a', 'tp', 5);
  const recorded: Outcome = { id: 'po', accountId: 'a', type: 'transfer_post', amount: 5, requestId: 'tp', status: 'applied', balance: 0, reserved: 0, decidedAt: 1, counterparty: 'b', postedAmount: 5 };
  t.ok(sameBody(recorded, post), "a post's recorded counterparty and amount posted are not its body");
  t.ok(digestMatches(bodyDigest(post), recorded));
});

t.test('remembered outcomes carry the new types, statuses, reason and members', async (t) => {
  const outcomes: Outcome[] = [
    { id: 'tp', accountId: 'a', type: 'transfer', amount: 5, status: 'posted', balance: 1, reserved: 0, decidedAt: 9, pending: true, counterparty: 'b', expiresInSeconds: 60 },
    { id: 'tp', accountId: 'a', type: 'transfer', amount: 5, status: 'voided', balance: 1, reserved: 0, decidedAt: 9, pending: true, counterparty: 'b' },
    { id: 'po', accountId: 'a', type: 'transfer_post', requestId: 'tp', status: 'applied', balance: 1, reserved: 0, decidedAt: 9, postedAmount: 5, counterparty: 'b' },
    { id: 'po', accountId: 'a', type: 'transfer_post', amount: 6, requestId: 'tp', status: 'denied', reason: 'exceeds_pending', balance: 1, reserved: 5, decidedAt: 9 },
    { id: 'vo', accountId: 'a', type: 'transfer_void', requestId: 'tp', status: 'not_found', reason: 'request_not_held', balance: 1, reserved: 0, decidedAt: 9 },
  ];
  for (const o of outcomes) t.strictSame(recall(o.accountId, o.id, remember(o)), o, `${o.type} ${o.status}`);
});

t.test("a pending transfer's later status, read from the documents after it", async (t) => {
  const base = { balanceAfter: 0, reservedAfter: 0, partition: 1, receivedAt: 1, decidedAt: 1 };
  const approved: LedgerDoc & { type: 'transfer' } = { ...base, _id: '1:1', id: 'tp', accountId: 'a', type: 'transfer', amount: 5, status: 'approved', offset: 1, pending: true, counterparty: 'b' };
  const later = (type: LedgerDoc['type'], status: LedgerDoc['status'], offset: number): LedgerDoc => ({ ...base, _id: `1:${offset}`, id: `x${offset}`, accountId: 'a', type, amount: 0, status, offset, requestId: 'tp' });
  t.equal(withLaterStatus(approved, []).status, 'approved');
  t.equal(withLaterStatus(approved, [later('transfer_post', 'applied', 3)]).status, 'posted');
  t.equal(withLaterStatus(approved, [later('transfer_void', 'applied', 3)]).status, 'voided');
  t.equal(withLaterStatus(approved, [later('expire', 'applied', 3)]).status, 'expired');
  t.equal(withLaterStatus(approved, [later('transfer_post', 'denied', 2), later('transfer_void', 'applied', 4)]).status, 'voided', 'a denied post releases nothing');
  t.equal(withLaterStatus(approved, [later('transfer_post', 'applied', 0)]).status, 'approved', 'a document before it is not its fate');
  const wholePost = { ...later('transfer_post', 'applied', 3), type: 'transfer_post' as const, postedAmount: 5, counterparty: 'b' };
  t.strictSame([outcomeOfDocument(wholePost).amount, outcomeOfDocument(wholePost).postedAmount], [undefined, 5], 'a post that named no amount reads back without one');
  t.equal(outcomeOfDocument({ ...wholePost, amount: 4, postedAmount: 4 }).amount, 4);
});

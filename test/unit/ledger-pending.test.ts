// The rules of a two-phase transfer (docs/transfers.md, Two-phase transfers):
// the hold of a pending transfer, its post (whole or part, too much, not held)
// and its void, and what the other rules may no longer do to its hold; each
// decided by consumer/ledger.ts `decide`.
import t from 'tap';
import { decide, EMPTY_ACCOUNT, lapseHolds, type Hold } from '../../consumer/ledger.js';
import { nextLeg } from '../../consumer/transfer-legs.js';
import { account, configured, hold, MAX, pos } from '../helpers/accounts.js';
import { cancel, pendingTransfer, transferPost, transferVoid, withdraw } from '../helpers/tx.js';

const pendingHold = (id: string, amount: number, to = 'acc-b', expiresAt = MAX): Hold => ({ id, amount, expiresAt, counterparty: to });

t.test('a pending transfer approved holds its amount on from, remembering to; nothing is credited', async (t) => {
  const a = account(100, [hold('r0', 30)]);
  const msg = pendingTransfer('tp1', 'acc-a', 'acc-b', 70, { reference: 'order 7' });
  const d = decide(a, msg, pos);
  t.strictSame(d.account, { balance: 100, reserved: 100, updatedAt: 5_000, holds: [hold('r0', 30), { id: 'tp1', amount: 70, expiresAt: 61_000, counterparty: 'acc-b' }] });
  t.strictSame([d.outcome.status, d.outcome.pending, d.outcome.counterparty, d.outcome.expiresInSeconds, d.outcome.reference], ['approved', true, 'acc-b', 60, 'order 7']);
  t.strictSame([d.doc.type, d.doc.status, d.doc.amount, d.doc.pending, d.doc.counterparty, d.doc.reservedAfter], ['transfer', 'approved', 70, true, 'acc-b', 100]);
  t.equal(nextLeg(msg, d.outcome, pos), undefined, 'no credit is minted for a hold');
});

t.test('a pending transfer is denied as a debit would be, and changes nothing', async (t) => {
  const a = account(100, [hold('r0', 30)]);
  const over = decide(a, pendingTransfer('tp', 'acc', 'b', 71), pos);
  t.strictSame([over.outcome.status, over.outcome.reason, over.account.holds], ['denied', 'insufficient_funds', a.holds]);
  t.equal(decide(configured(100, { status: 'frozen' }), pendingTransfer('tp', 'acc', 'b', 1), pos).outcome.reason, 'account_frozen');
  t.equal(decide(configured(100, { status: 'closed' }), pendingTransfer('tp', 'acc', 'b', 1), pos).outcome.reason, 'account_closed');
  t.equal(decide(configured(10, { overdraftLimit: 50 }), pendingTransfer('tp', 'acc', 'b', 60), pos).outcome.status, 'approved', 'into the overdraft limit');
  t.equal(decide(EMPTY_ACCOUNT, pendingTransfer('tp', 'acc', 'b', 1), pos).outcome.reason, 'insufficient_funds');
});

t.test('the hold lapses by the log clock: expiresAt by receivedAt, its time to live from the decision by the broker', async (t) => {
  const byReceivedAt = decide(account(100), pendingTransfer('tp', 'acc', 'b', 40, { expiresAt: 9_000 }), pos).account;
  t.equal(byReceivedAt.holds[0]!.expiresAt, 9_000);
  const byBroker = decide(account(100), pendingTransfer('tp', 'acc', 'b', 40, { expiresInSeconds: 10 }), { ...pos, clockSource: 'log-append-time' }).account;
  t.equal(byBroker.holds[0]!.expiresAt, 15_000, 'clock 5000 + 10 s');
  const lapsed = lapseHolds('acc', byReceivedAt, { ...pos, clock: 9_000 });
  t.strictSame([lapsed.account.reserved, lapsed.account.balance, lapsed.docs.map((d) => [d.type, d.requestId, d.amount])], [0, 100, [['expire', 'tp', 40]]]);
});

t.test('a post of the whole hold: the balance pays it, the hold goes, the credit is minted as an applied debit mints it', async (t) => {
  const a = account(100, [hold('r0', 10), pendingHold('tp1', 70)]);
  const post = transferPost('po1', 'acc-a', 'tp1', undefined, { replyTo: 'api-1', callId: 'c.1', creditCallId: 'c.2', reference: 'ship' });
  const d = decide(a, post, pos);
  t.strictSame(d.account, { balance: 30, reserved: 10, updatedAt: 5_000, holds: [hold('r0', 10)] });
  t.strictSame([d.outcome.status, d.outcome.amount, d.outcome.postedAmount, d.outcome.counterparty, d.outcome.requestId], ['applied', undefined, 70, 'acc-b', 'tp1']);
  t.strictSame([d.doc.amount, d.doc.postedAmount, d.doc.counterparty, d.doc.requestId, d.doc.balanceAfter], [0, 70, 'acc-b', 'tp1', 30], 'the document records what was named (nothing) and what was posted');
  t.strictSame(nextLeg(post, d.outcome, pos), {
    v: 1,
    id: 'tp1~credit~acc-a~5000',
    type: 'transfer_credit',
    accountId: 'acc-b',
    amount: 70,
    counterparty: 'acc-a',
    transferId: 'tp1',
    receivedAt: 5_000,
    reference: 'ship',
    replyTo: 'api-1',
    callId: 'c.2',
  });
});

t.test('a post of part of the hold releases the rest', async (t) => {
  const d = decide(account(100, [pendingHold('tp1', 70)]), transferPost('po1', 'acc-a', 'tp1', 25), pos);
  t.strictSame([d.outcome.status, d.outcome.amount, d.outcome.postedAmount, d.account.balance, d.account.reserved, d.account.holds], ['applied', 25, 25, 75, 0, []]);
  t.equal(nextLeg(transferPost('po1', 'acc-a', 'tp1', 25), d.outcome, pos)?.amount, 25, 'the credit is of the amount posted');
  t.equal(decide(account(100, [pendingHold('tp1', 70)]), transferPost('po1', 'acc-a', 'tp1', 70), pos).outcome.status, 'applied', 'exactly the hold');
});

t.test('a post of more than the hold is denied exceeds_pending and changes nothing', async (t) => {
  const a = account(100, [pendingHold('tp1', 70)]);
  const post = transferPost('po1', 'acc-a', 'tp1', 71);
  const d = decide(a, post, pos);
  t.strictSame([d.outcome.status, d.outcome.reason, d.doc.reason, d.account], ['denied', 'exceeds_pending', 'exceeds_pending', { ...a, updatedAt: 5_000 }]);
  t.equal(nextLeg(post, d.outcome, pos), undefined, 'no credit');
});

t.test('a post or void of a hold not held is not_found request_not_held', async (t) => {
  const a = account(100, [hold('r0', 30), pendingHold('tp1', 10)]);
  for (const msg of [transferPost('po', 'acc', 'gone'), transferVoid('vo', 'acc', 'gone'), transferPost('po', 'acc', 'r0', 5), transferVoid('vo', 'acc', 'r0')]) {
    const d = decide(a, msg, pos);
    t.strictSame([d.outcome.status, d.outcome.reason, d.account.holds], ['not_found', 'request_not_held', a.holds], `${msg.type} of ${msg.requestId}`);
    t.equal(nextLeg(msg, d.outcome, pos), undefined);
  }
});

t.test('a post is judged by its hold alone: a frozen account still pays what it held; past the exact range is refused', async (t) => {
  const frozen = configured(100, { status: 'frozen' }, [pendingHold('tp1', 70)]);
  t.equal(decide(frozen, transferPost('po', 'acc', 'tp1'), pos).outcome.status, 'applied');
  const deep = account(-MAX + 10, [pendingHold('tp1', 20)]);
  t.strictSame([decide(deep, transferPost('po', 'acc', 'tp1'), pos).outcome.reason, decide(deep, transferPost('po', 'acc', 'tp1', 10), pos).outcome.status], ['balance_out_of_range', 'applied']);
});

t.test('a void releases the whole hold and moves no money', async (t) => {
  const d = decide(account(100, [pendingHold('tp1', 70), hold('r1', 5)]), transferVoid('vo1', 'acc-a', 'tp1'), pos);
  t.strictSame([d.outcome.status, d.account.balance, d.account.reserved, d.account.holds], ['applied', 100, 5, [hold('r1', 5)]]);
  t.equal(nextLeg(transferVoid('vo1', 'acc-a', 'tp1'), d.outcome, pos), undefined);
});

t.test('a cancel or a withdrawal never ends a pending transfer\'s hold', async (t) => {
  const a = account(100, [pendingHold('tp1', 40), hold('r1', 20)]);
  t.strictSame([decide(a, cancel('c', 'acc', 'tp1'), pos).outcome.status, decide(a, cancel('c', 'acc', 'tp1'), pos).outcome.reason], ['not_found', 'request_not_held']);
  const capture = decide(a, withdraw('w', 'acc', 5, { requestId: 'tp1' }), pos);
  t.strictSame([capture.outcome.reason, capture.account.holds], ['request_not_held', a.holds], 'a capture naming it finds no request');
  const oldest = decide(a, withdraw('w', 'acc', 30), pos);
  t.strictSame(oldest.account.holds, [pendingHold('tp1', 40)], "a withdrawal without requestId consumes the requests' holds only");
  t.equal(oldest.account.reserved, 40);
});

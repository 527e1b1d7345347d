// The ledger event contract (common/events.ts): every document type and status
// the rules write maps to its named event, every event conforms to the schema
// the api serves, and an event's id is its document's `_id`.
import t from 'tap';
import { EVENT_TYPES, eventOf, eventTypeOf, LEDGER_EVENT_TYPES, ledgerEventProblem, type LedgerEvent } from '../../common/events.js';
import type { LedgerDoc, TxMessage } from '../../common/types.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { DAY } from '../helpers/partition-harness.js';
import { cancel, deposit, pendingTransfer, request, reversal, settings, tick, transfer, transferCredit, transferPost, transferVoid, withdraw } from '../helpers/tx.js';

/** Every document a log that meets every type and status writes, in log order, with the event type each must map to. */
function everyDocument(): { docs: LedgerDoc[]; expected: string[] } {
  const p = new PartitionLedger(3, DAY);
  const docs: LedgerDoc[] = [];
  const expected: string[] = [];
  let offset = 0;
  const decide = (msg: TxMessage | ReturnType<typeof tick>, ...types: string[]) => {
    const step = p.apply(msg, offset++);
    docs.push(...step.docs);
    expected.push(...types);
    return step;
  };
  const labels = { reference: 'inv-7', metadata: { order: '42' } };
  decide(deposit('d1', 'acc-a', 100, labels), 'deposit.applied');
  decide(settings('s1', 'acc-c', { accountStatus: 'closed' }), 'account.settings_changed');
  decide(deposit('d2', 'acc-c', 10), 'deposit.denied');
  decide(request('r1', 'acc-a', 40), 'withdrawal_request.approved');
  decide(request('r2', 'acc-a', 1000), 'withdrawal_request.denied');
  decide(withdraw('w1', 'acc-a', 10, { requestId: 'r1' }), 'withdrawal.applied');
  decide(settings('s2', 'acc-b', { accountStatus: 'frozen', overdraftLimit: 50 }), 'account.settings_changed');
  decide(withdraw('w2', 'acc-b', 5), 'withdrawal.denied');
  decide(withdraw('w3', 'acc-e', 5), 'withdrawal.applied');
  decide(request('r3', 'acc-a', 10, { expiresAt: 5_000 }), 'withdrawal_request.approved');
  decide(cancel('c1', 'acc-a', 'r9'), 'cancel.not_found');
  decide(request('r4', 'acc-a', 5), 'withdrawal_request.approved');
  decide(cancel('c2', 'acc-a', 'r4'), 'cancel.applied');
  const debit = decide(transfer('t1', 'acc-a', 'acc-d', 20, labels), 'transfer.debited');
  decide(transfer('t2', 'acc-a', 'acc-d', 10_000), 'transfer.denied');
  decide(debit.minted[0]!, 'transfer.credited');
  const refused = decide(transferCredit('t3', 'acc-a', 'acc-c', 7, 1_000), 'transfer.credit_refused');
  decide(refused.minted[0]!, 'transfer.returned');
  decide(settings('s3', 'acc-a', { accountStatus: 'closed' }), 'account.settings_denied');
  decide(tick(10_000), 'hold.lapsed');
  decide(reversal('v1', 'acc-a', 'd1', 30), 'reversal.applied');
  decide(reversal('v2', 'acc-a', 'd1', 71), 'reversal.denied');
  decide(reversal('v3', 'acc-a', 'nothing-here'), 'reversal.not_found');
  // A reversal of a transfer's credit names an id Teller minted; its credit back follows.
  const reversedCredit = decide(reversal('v4', 'acc-d', 't1~credit~acc-a~1000', 5), 'reversal.applied');
  decide(reversedCredit.minted[0]!, 'transfer.credited');
  // Two-phase transfers: held, refused, posted (its credit follows), voided, and what finds nothing held.
  decide(pendingTransfer('p1', 'acc-a', 'acc-d', 10), 'transfer.pending');
  decide(pendingTransfer('p2', 'acc-a', 'acc-d', 10), 'transfer.pending');
  decide(pendingTransfer('p3', 'acc-a', 'acc-d', 10_000), 'transfer.denied');
  decide(transferPost('q1', 'acc-a', 'p1', 11), 'transfer.post_denied');
  const posted = decide(transferPost('q2', 'acc-a', 'p1'), 'transfer.posted');
  decide(posted.minted[0]!, 'transfer.credited');
  decide(transferPost('q3', 'acc-a', 'p1'), 'transfer.post_not_found');
  decide(transferVoid('x1', 'acc-a', 'p2'), 'transfer.voided');
  decide(transferVoid('x2', 'acc-a', 'p2'), 'transfer.void_not_found');
  return { docs, expected };
}

t.test('every document type and status maps to its named event, which the schema takes', async (t) => {
  const { docs, expected } = everyDocument();
  const events = docs.map(eventOf);
  t.strictSame(
    events.map((event) => event.type),
    expected,
    'each document its event type',
  );
  t.strictSame(new Set(expected), new Set(LEDGER_EVENT_TYPES), 'the log meets every named type');
  for (const event of events) t.equal(ledgerEventProblem(event), undefined, `${event.type} ${event.eventId} conforms`);
  t.strictSame(
    events.map((event) => event.eventId),
    docs.map((doc) => doc._id),
    "each event's id is its document's _id",
  );
  t.ok(new Set(events.map((event) => event.eventId)).size === events.length, 'no two events share an id');
});

t.test('an event carries its document: balances after, the log clock, the position and the labels', async (t) => {
  const { docs } = everyDocument();
  const byTransaction = new Map(docs.map((doc) => [doc.id, eventOf(doc)]));
  t.strictSame(byTransaction.get('d1'), {
    v: 1,
    eventId: '3:0',
    type: 'deposit.applied',
    accountId: 'acc-a',
    transactionId: 'd1',
    amount: 100,
    status: 'applied',
    balance: 100,
    reserved: 0,
    occurredAt: new Date(1_000).toISOString(),
    partition: 3,
    offset: 0,
    reference: 'inv-7',
    metadata: { order: '42' },
  });
  t.match(byTransaction.get('t1'), { type: 'transfer.debited', counterparty: 'acc-d', balance: 70, reserved: 10, reference: 'inv-7' });
  t.match(byTransaction.get('t1~credit~acc-a~1000'), { type: 'transfer.credited', accountId: 'acc-d', counterparty: 'acc-a', transferId: 't1', balance: 20, metadata: { order: '42' } });
  t.match(byTransaction.get('d2'), { type: 'deposit.denied', reason: 'account_closed', balance: 0 });
  t.match(byTransaction.get('w3'), { type: 'withdrawal.applied', overdraft: true, balance: -5 });
  t.equal(byTransaction.get('w1')?.overdraft, undefined, 'no overdraft flag when there is none');
  t.match(byTransaction.get('s2'), { type: 'account.settings_changed', accountStatus: 'frozen', overdraftLimit: 50, amount: 0 });
  t.match(byTransaction.get('c2'), { type: 'cancel.applied', requestId: 'r4', amount: 0 });
  const lapse = byTransaction.get('r3~expired')!;
  t.match(lapse, { type: 'hold.lapsed', requestId: 'r3', amount: 10, reserved: 0, offset: 19 });
  t.equal(lapse.occurredAt, new Date(10_000).toISOString(), 'a lapse has no decidedAt: its receivedAt, the clock it lapsed by');
  t.match(lapse.eventId, /^3:19:0:r3~expired$/);
  t.match(byTransaction.get('v4'), { type: 'reversal.applied', accountId: 'acc-d', requestId: 't1~credit~acc-a~1000', amount: 5, balance: 15 });
});

t.test("a two-phase transfer's events: held with its flag, posted with the amount it moved, voided", async (t) => {
  const { docs } = everyDocument();
  const byTransaction = new Map(docs.map((doc) => [doc.id, eventOf(doc)]));
  t.match(byTransaction.get('p1'), { type: 'transfer.pending', status: 'approved', pending: true, counterparty: 'acc-d', amount: 10, balance: 52, reserved: 10 });
  t.match(byTransaction.get('p3'), { type: 'transfer.denied', reason: 'insufficient_funds', pending: true });
  t.match(byTransaction.get('q1'), { type: 'transfer.post_denied', reason: 'exceeds_pending', amount: 11, requestId: 'p1', reserved: 20 });
  const post = byTransaction.get('q2')!;
  t.match(post, { type: 'transfer.posted', requestId: 'p1', amount: 0, postedAmount: 10, counterparty: 'acc-d', balance: 42, reserved: 10 });
  t.equal(post.pending, undefined, 'a post is no two-phase transfer of its own');
  const credit = [...byTransaction.values()].find((event) => event.type === 'transfer.credited' && event.transferId === 'p1');
  t.match(credit, { accountId: 'acc-d', counterparty: 'acc-a', amount: 10 }, 'its credit carries the amount posted');
  t.match(byTransaction.get('q3'), { type: 'transfer.post_not_found', reason: 'request_not_held', balance: 42 });
  t.match(byTransaction.get('x1'), { type: 'transfer.voided', requestId: 'p2', amount: 0, reserved: 0 });
  t.match(byTransaction.get('x2'), { type: 'transfer.void_not_found', reason: 'request_not_held' });
  t.equal(byTransaction.get('d1')?.postedAmount, undefined, 'no postedAmount on any other event');
});

t.test('the event copies what it keeps: changing the document afterwards changes no event', async (t) => {
  const doc = everyDocument().docs[0]!;
  const event = eventOf(doc);
  doc.metadata!.order = 'changed';
  t.strictSame(event.metadata, { order: '42' });
});

t.test('a status or type no row names gets the generic <type>.<status>, and still conforms', async (t) => {
  t.equal(eventTypeOf('deposit', 'approved'), 'deposit.approved');
  t.equal(eventTypeOf('interest', 'applied'), 'interest.applied');
  const doc = { ...everyDocument().docs[0]!, type: 'interest' } as unknown as LedgerDoc;
  const event = eventOf(doc);
  t.equal(event.type, 'interest.applied');
  t.equal(ledgerEventProblem(event), undefined);
  for (const [type, row] of Object.entries(EVENT_TYPES)) {
    for (const [status, name] of Object.entries(row)) t.equal(eventTypeOf(type, status), name, `${type} ${status}`);
  }
});

t.test('the schema refuses what is not an event', async (t) => {
  const event: LedgerEvent = eventOf(everyDocument().docs[0]!);
  const { eventId: _, ...withoutId } = event;
  t.match(ledgerEventProblem(withoutId), /eventId/);
  t.match(ledgerEventProblem({ ...event, extra: 1 }), /additional properties/);
  t.match(ledgerEventProblem({ ...event, v: 2 }), /\/v/);
  t.match(ledgerEventProblem({ ...event, amount: 1.5 }), /\/amount/);
  t.match(ledgerEventProblem({ ...event, occurredAt: '1970-01-01 00:00:01' }), /\/occurredAt/);
  t.match(ledgerEventProblem({ ...event, type: 'Deposit' }), /\/type/);
  t.match(ledgerEventProblem({ ...event, status: 'conflict' }), /\/status/, 'a conflict writes no document');
  t.match(ledgerEventProblem({ ...event, status: 'posted' }), /\/status/, 'nor does a posted transfer: its post does');
  t.match(ledgerEventProblem({ ...event, pending: false }), /\/pending/);
  t.match(ledgerEventProblem({ ...event, postedAmount: -1 }), /\/postedAmount/);
  t.match(ledgerEventProblem({ ...event, reason: 'exceeds_pending' }), undefined, 'the new reason is named');
});

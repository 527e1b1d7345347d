// The ids the owners mint for a transfer's credit and return, and the next
// leg each decision mints (consumer/transfer-ids.ts, consumer/transfer-legs.ts;
// docs/transfers.md, The legs).
import t from 'tap';
import { creditId, parseCreditId, returnId } from '../../common/transfer-ids.js';
import { creditOf, nextLeg, returnOf } from '../../consumer/transfer-legs.js';
import { decide, EMPTY_ACCOUNT } from '../../consumer/ledger.js';
import { parseMessage, encodeMessage } from '../../common/message.js';
import type { TxMessage } from '../../common/types.js';
import { account, configured, pos } from '../helpers/accounts.js';
import { deposit, settings, transfer, transferCredit, transferReturn } from '../helpers/tx.js';

t.test('the credit and return ids, and the parse of a credit id', async (t) => {
  t.equal(creditId('tr.1', 'acc-a', 1_700_000_000_123), 'tr.1~credit~acc-a~1700000000123');
  t.equal(returnId('tr.1', 1_700_000_000_123), 'tr.1~return~1700000000123');
  t.strictSame(parseCreditId('tr.1~credit~acc-a~1700000000123'), { transferId: 'tr.1', from: 'acc-a', decidedAt: 1_700_000_000_123 });
  t.strictSame(parseCreditId(creditId('a:b_c-d', '__proto__', 0)), { transferId: 'a:b_c-d', from: '__proto__', decidedAt: 0 });
  const notCredits = [
    'tr.1',
    'tr.1~return~5',
    'tr.1~credit~acc~',
    'tr.1~credit~acc~5~6',
    'tr.1~credit~~5',
    '~credit~acc~5',
    'tr.1~debit~acc~5',
    'tr.1~credit~acc~-5',
    'tr.1~credit~acc~5.5',
    'tr.1~credit~acc~1e3',
    'tr.1~credit~acc~99999999999999999',
    'r~timeout',
  ];
  for (const id of notCredits) t.equal(parseCreditId(id), undefined, `not a credit id: ${id}`);
  t.not(creditId('x', 'a', 1), creditId('x', 'a', 2), 'one transfer id debited twice (a window apart): two credits');
  t.not(returnId('x', 1), returnId('x', 2));
});

t.test('an applied debit mints its credit', async (t) => {
  const msg = transfer('tr1', 'acc-a', 'acc-b', 70, { reference: 'rent', metadata: { flat: '4b' }, replyTo: 'api-1', callId: 'c.1', creditCallId: 'c.2' });
  const d = decide(account(100), msg, pos);
  t.strictSame(nextLeg(msg, d.outcome, pos), {
    v: 1,
    id: 'tr1~credit~acc-a~5000',
    type: 'transfer_credit',
    accountId: 'acc-b',
    amount: 70,
    counterparty: 'acc-a',
    transferId: 'tr1',
    receivedAt: 5_000,
    reference: 'rent',
    metadata: { flat: '4b' },
    replyTo: 'api-1',
    callId: 'c.2',
  });
  const credit = creditOf(msg, 5_000);
  t.not(credit.metadata, msg.metadata, 'its own labels object');
  const bare = creditOf(transfer('tr2', 'acc-a', 'acc-b', 5), 9);
  for (const key of ['reference', 'metadata', 'replyTo', 'callId']) t.notOk(key in bare, `no ${key} without one in the transfer`);
  t.notOk('callId' in creditOf(transfer('tr3', 'a', 'b', 5, { replyTo: 'api-1', callId: 'c.1' }), 9), "the debit's own token is not the credit's");
  const parsed = parseMessage(encodeMessage(credit));
  t.ok(parsed.ok, 'the credit is a valid message');
  const longest = creditOf(transfer('t'.repeat(128), 'a'.repeat(64), 'b', 5), Number.MAX_SAFE_INTEGER);
  t.ok(parseMessage(encodeMessage(longest)).ok, 'the longest credit id is a valid system id');
});

t.test('a denied credit mints its return', async (t) => {
  const credit = transferCredit('tr1', 'acc-a', 'acc-b', 70, 4_500, { reference: 'rent', metadata: { flat: '4b' }, replyTo: 'api-1', callId: 'c.2' });
  const d = decide(configured(0, { status: 'closed' }), credit, pos);
  t.equal(d.outcome.reason, 'account_closed');
  const back = nextLeg(credit, d.outcome, pos);
  t.strictSame(back, {
    v: 1,
    id: 'tr1~return~4500',
    type: 'transfer_return',
    accountId: 'acc-a',
    amount: 70,
    counterparty: 'acc-b',
    transferId: 'tr1',
    receivedAt: 5_000,
    reference: 'rent',
    metadata: { flat: '4b' },
  });
  t.ok(parseMessage(encodeMessage(back!)).ok, 'the return is a valid message');
  const out = decide(EMPTY_ACCOUNT, credit, pos);
  t.equal(nextLeg(credit, { ...out.outcome, status: 'denied', reason: 'balance_out_of_range' }, pos)?.type, 'transfer_return', 'out of range: returned too');
  const odd: TxMessage = { ...credit, id: 'not-minted', receivedAt: 4_400 };
  t.equal(returnOf(odd, 5_000).id, 'tr1~return~4400', "a credit id that does not parse: the debit's clock from its receivedAt");
  const longest = returnOf(transferCredit('t'.repeat(128), 'a'.repeat(64), 'b', 5, Number.MAX_SAFE_INTEGER), 1);
  t.ok(parseMessage(encodeMessage(longest)).ok, 'the longest return id is a valid system id');
});

t.test('nothing else mints', async (t) => {
  const cases: [string, TxMessage, ReturnType<typeof account>][] = [
    ['a denied debit', transfer('tr', 'a', 'b', 500), account(10)],
    ['a debit on a frozen account', transfer('tr', 'a', 'b', 5), configured(10, { status: 'frozen' })],
    ['an applied credit', transferCredit('tr', 'a', 'b', 5, 1), account(0)],
    ['a return', transferReturn('tr', 'a', 'b', 5, 1), configured(0, { status: 'closed' })],
    ['a deposit', deposit('d', 'a', 5), account(0)],
    ['a denied deposit', deposit('d', 'a', 5), configured(0, { status: 'closed' })],
    ['a settings change', settings('s', 'a', { accountStatus: 'closed' }), account(0)],
  ];
  for (const [what, msg, a] of cases) t.equal(nextLeg(msg, decide(a, msg, pos).outcome, pos), undefined, what);
});

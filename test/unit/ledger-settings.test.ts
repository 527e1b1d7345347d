// Account settings (docs/transfers.md, Account settings): the settings change
// itself, and what an overdraft limit and a frozen or closed account do to
// every other rule of consumer/ledger.ts.
import t from 'tap';
import { decide, EMPTY_ACCOUNT, lapseHolds } from '../../consumer/ledger.js';
import { availableFunds } from '../../consumer/ledger-settings.js';
import type { AccountStatus } from '../../common/types.js';
import { account, configured, hold, MAX, pos } from '../helpers/accounts.js';
import { cancel, deposit, request, settings, withdraw } from '../helpers/tx.js';

t.test('a settings change on an unknown account: the account, outcome and document', async (t) => {
  const msg = settings('s1', 'acc', { overdraftLimit: 100, accountStatus: 'frozen' }, { receivedAt: 4_000 });
  const d = decide(EMPTY_ACCOUNT, msg, pos);
  t.strictSame(d.account, { balance: 0, reserved: 0, updatedAt: 5_000, holds: [], overdraftLimit: 100, status: 'frozen' });
  t.strictSame(d.outcome, {
    id: 's1',
    accountId: 'acc',
    type: 'account_settings',
    status: 'applied',
    balance: 0,
    reserved: 0,
    overdraftLimit: 100,
    accountStatus: 'frozen',
    decidedAt: 5_000,
  });
  t.strictSame(d.doc, {
    _id: '3:42',
    id: 's1',
    accountId: 'acc',
    type: 'account_settings',
    amount: 0,
    status: 'applied',
    balanceAfter: 0,
    reservedAfter: 0,
    partition: 3,
    offset: 42,
    receivedAt: 4_000,
    decidedAt: 5_000,
    overdraftLimit: 100,
    accountStatus: 'frozen',
  });
});

t.test('each setting alone changes only itself; the defaults are kept absent', async (t) => {
  const a = configured(70, { overdraftLimit: 50, status: 'frozen' }, [hold('r1', 30)]);
  const limitOnly = decide(a, settings('s', 'acc', { overdraftLimit: 80 }), pos).account;
  t.strictSame(limitOnly, { balance: 70, reserved: 30, updatedAt: 5_000, holds: [hold('r1', 30)], overdraftLimit: 80, status: 'frozen' });
  const statusOnly = decide(a, settings('s', 'acc', { accountStatus: 'open' }), pos).account;
  t.strictSame(statusOnly, { balance: 70, reserved: 30, updatedAt: 5_000, holds: [hold('r1', 30)], overdraftLimit: 50 }, 'open is the default: no status field');
  t.notOk('status' in statusOnly);
  const zero = decide(a, settings('s', 'acc', { overdraftLimit: 0 }), pos).account;
  t.notOk('overdraftLimit' in zero, 'a limit of 0 is the default: no field');
  t.equal(zero.status, 'frozen');
  const back = decide(a, settings('s', 'acc', { overdraftLimit: 0, accountStatus: 'open' }), pos).account;
  t.strictSame(back, { balance: 70, reserved: 30, updatedAt: 5_000, holds: [hold('r1', 30)] }, 'both back to the defaults: an account as one never set');
  t.strictSame(decide(EMPTY_ACCOUNT, settings('s', 'acc', { overdraftLimit: 0, accountStatus: 'open' }), pos).account, { ...EMPTY_ACCOUNT, updatedAt: 5_000 });
});

t.test('closing', async (t) => {
  t.test('an empty account closes, and opens again', async (t) => {
    const closed = decide(account(0), settings('s1', 'acc', { accountStatus: 'closed' }), pos);
    t.equal(closed.outcome.status, 'applied');
    t.equal(closed.account.status, 'closed');
    const reopened = decide(closed.account, settings('s2', 'acc', { accountStatus: 'open' }), pos);
    t.equal(reopened.outcome.status, 'applied');
    t.notOk('status' in reopened.account);
  });
  const notEmpty: [string, ReturnType<typeof account>][] = [
    ['money in it', account(1)],
    ['a negative balance', configured(-20, { overdraftLimit: 50 })],
    ['an open hold, no balance', configured(0, { overdraftLimit: 50 }, [hold('r1', 40)])],
    ['frozen with money', configured(5, { status: 'frozen' })],
    ['closed already, with a return since', configured(5, { status: 'closed' })],
  ];
  for (const [what, a] of notEmpty) {
    t.test(`denied account_not_empty with ${what}, changing nothing`, async (t) => {
      const d = decide(a, settings('s', 'acc', { accountStatus: 'closed', overdraftLimit: 999 }), pos);
      t.equal(d.outcome.status, 'denied');
      t.equal(d.outcome.reason, 'account_not_empty');
      t.equal(d.doc.reason, 'account_not_empty');
      t.strictSame(d.account, { ...a, updatedAt: 5_000 }, 'not even the limit named beside it');
      t.equal(d.outcome.overdraftLimit, 999, 'the outcome still says what was asked');
      t.equal(d.outcome.accountStatus, 'closed');
    });
  }
  t.test('other settings of a non-empty account apply', async (t) => {
    const d = decide(account(10, [hold('r', 5)]), settings('s', 'acc', { accountStatus: 'frozen', overdraftLimit: 3 }), pos);
    t.equal(d.outcome.status, 'applied');
    t.equal(d.account.status, 'frozen');
    t.equal(d.account.overdraftLimit, 3);
  });
});

t.test('available funds are balance - reserved + overdraftLimit', async (t) => {
  t.equal(availableFunds(account(100, [hold('r', 30)])), 70);
  t.equal(availableFunds(configured(100, { overdraftLimit: 50 }, [hold('r', 30)])), 120);
  t.equal(availableFunds(configured(-40, { overdraftLimit: 50 })), 10);
  t.equal(availableFunds(configured(0, { overdraftLimit: 50, status: 'frozen' })), 50, 'the status does not change the funds, only what may use them');
});

t.test('withdrawal requests against the overdraft limit', async (t) => {
  const a = configured(100, { overdraftLimit: 50 }, [hold('r0', 30)]);
  const exact = decide(a, request('r1', 'acc', 120), pos);
  t.equal(exact.outcome.status, 'approved', 'available exactly the amount');
  t.equal(exact.account.reserved, 150);
  t.equal(exact.account.balance - exact.account.reserved, -50, 'available now -overdraftLimit, no lower');
  const over = decide(a, request('r1', 'acc', 121), pos);
  t.equal(over.outcome.reason, 'insufficient_funds');
  t.strictSame(over.account, { ...a, updatedAt: 5_000 });
  const negative = decide(configured(-40, { overdraftLimit: 50 }), request('r2', 'acc', 10), pos);
  t.equal(negative.outcome.status, 'approved', 'approved on a negative balance within the limit');
  t.equal(decide(configured(-40, { overdraftLimit: 50 }), request('r2', 'acc', 11), pos).outcome.reason, 'insufficient_funds');
  t.equal(decide(configured(MAX, { overdraftLimit: MAX }), request('r3', 'acc', MAX), pos).outcome.status, 'approved', 'a limit and a balance both at the edge');
});

t.test('a frozen or closed account refuses every debit, before the hold limit and the funds', async (t) => {
  const statuses: [AccountStatus, 'account_frozen' | 'account_closed'][] = [
    ['frozen', 'account_frozen'],
    ['closed', 'account_closed'],
  ];
  for (const [status, reason] of statuses) {
    const a = configured(1_000, { status, overdraftLimit: 10 }, [hold('r0', 100)]);
    const debits = [
      ['a request', request('r1', 'acc', 10)],
      ['a request past the hold limit', request('r1', 'acc', 10, { holdLimit: 1 })],
      ['a request past the funds', request('r1', 'acc', 5_000)],
      ['a withdrawal', withdraw('w1', 'acc', 10)],
      ['a withdrawal past the funds', withdraw('w1', 'acc', 5_000)],
      ['a withdrawal past the exact range', withdraw('w1', 'acc', MAX)],
      ['a capture of an open hold', withdraw('w1', 'acc', 100, { requestId: 'r0' })],
    ] as const;
    for (const [what, msg] of debits) {
      const d = decide(a, msg, pos);
      t.equal(d.outcome.status, 'denied', `${status}: ${what} denied`);
      t.equal(d.outcome.reason, reason, `${status}: ${what}: ${reason}`);
      t.strictSame(d.account, { ...a, updatedAt: 5_000 }, `${status}: ${what} changes nothing, the hold stays`);
      t.notOk('overdraft' in d.outcome);
    }
  }
});

t.test('hold limit before funds, on an open account with a limit', async (t) => {
  const d = decide(configured(0, { overdraftLimit: 10 }, [hold('r0', 5)]), request('r1', 'acc', 500, { holdLimit: 1 }), pos);
  t.equal(d.outcome.reason, 'hold_limit');
});

t.test('a direct withdrawal is flagged overdraft only below -overdraftLimit', async (t) => {
  const a = configured(20, { overdraftLimit: 50 });
  const within = decide(a, withdraw('w1', 'acc', 70), pos);
  t.equal(within.outcome.status, 'applied');
  t.equal(within.account.balance, -50);
  t.notOk('overdraft' in within.outcome, 'at exactly -overdraftLimit: no flag');
  t.notOk('overdraft' in within.doc);
  const past = decide(a, withdraw('w2', 'acc', 71), pos);
  t.equal(past.account.balance, -51);
  t.equal(past.outcome.overdraft, true);
  t.equal(past.doc.overdraft, true);
  t.equal(decide(account(20), withdraw('w3', 'acc', 21), pos).outcome.overdraft, true, 'no limit: below zero is an overdraft, as before');
  const capture = decide(configured(0, { overdraftLimit: 50 }, [hold('r', 40)]), withdraw('w4', 'acc', 40, { requestId: 'r' }), pos);
  t.strictSame([capture.account.balance, capture.account.reserved, capture.outcome.overdraft], [-40, 0, undefined], 'a capture within the limit');
});

t.test('credits: a closed account refuses deposits, a frozen one takes them', async (t) => {
  const closed = configured(0, { status: 'closed' });
  const d = decide(closed, deposit('d1', 'acc', 10), pos);
  t.strictSame([d.outcome.status, d.outcome.reason], ['denied', 'account_closed']);
  t.strictSame(d.account, { ...closed, updatedAt: 5_000 });
  t.equal(decide(configured(MAX, { status: 'closed' }), deposit('d2', 'acc', 1), pos).outcome.reason, 'account_closed', 'the status before the range');
  const frozen = decide(configured(5, { status: 'frozen' }), deposit('d3', 'acc', 10), pos);
  t.strictSame([frozen.outcome.status, frozen.account.balance, frozen.account.status], ['applied', 15, 'frozen']);
  t.equal(decide(configured(MAX, { status: 'frozen' }), deposit('d4', 'acc', 1), pos).outcome.reason, 'balance_out_of_range');
});

t.test('cancels and lapses are never refused', async (t) => {
  for (const status of ['frozen', 'closed'] as const) {
    const a = configured(100, { status }, [hold('r0', 40, 4_000)]);
    const c = decide(a, cancel('c1', 'acc', 'r0'), pos);
    t.strictSame([c.outcome.status, c.account.reserved, c.account.holds.length, c.account.status], ['applied', 0, 0, status], `${status}: a cancel releases`);
    const lapsed = lapseHolds('acc', a, pos);
    t.strictSame([lapsed.lapsed.length, lapsed.account.reserved, lapsed.account.status], [1, 0, status], `${status}: a hold lapses`);
  }
});

t.test('every decision copies reference and metadata from its message, its own copy', async (t) => {
  const labels = { reference: 'invoice 2024/17', metadata: { order: 'o-1', 'shop-id': '9' } };
  const a = configured(100, {}, [hold('r0', 10)]);
  const messages = [
    deposit('d', 'acc', 1, labels),
    request('r', 'acc', 1, labels),
    withdraw('w', 'acc', 1, labels),
    cancel('c', 'acc', 'r0', labels),
    settings('s', 'acc', { overdraftLimit: 5 }, labels),
    settings('x', 'acc', { accountStatus: 'closed' }, labels),
  ];
  for (const msg of messages) {
    const d = decide(a, msg, pos);
    t.equal(d.outcome.reference, labels.reference, `${msg.id} (${d.outcome.status}): outcome reference`);
    t.equal(d.doc.reference, labels.reference, `${msg.id}: document reference`);
    t.strictSame(d.outcome.metadata, labels.metadata, `${msg.id}: outcome metadata`);
    t.strictSame(d.doc.metadata, labels.metadata, `${msg.id}: document metadata`);
    t.not(d.doc.metadata, msg.metadata, `${msg.id}: the document's metadata is not the message's object`);
    t.not(d.doc.metadata, d.outcome.metadata, `${msg.id}: nor the outcome's`);
  }
  const plain = decide(a, deposit('p', 'acc', 1), pos);
  for (const key of ['reference', 'metadata', 'counterparty', 'transferId', 'overdraftLimit', 'accountStatus']) {
    t.notOk(key in plain.outcome || key in plain.doc, `no ${key} field without one in the message`);
  }
});

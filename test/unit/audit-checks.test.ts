// The audit's checks must catch each kind of violation they name.
import t from 'tap';
import type { LedgerDoc } from '../../common/types.js';
import { checkAcknowledged, checkInvariants, checkReadModel, compareWithReplay, newestStates } from '../../scripts/operations/audit-checks.js';

let offset = 0;
function doc(accountId: string, id: string, type: LedgerDoc['type'], amount: number, balanceAfter: number, reservedAfter = 0, extra: Partial<LedgerDoc> = {}): LedgerDoc {
  const status = type === 'withdraw_request' ? 'approved' : 'applied';
  const at = offset++;
  return { _id: `0:${at}`, id, accountId, type, amount, status, balanceAfter, reservedAfter, partition: 0, offset: at, receivedAt: 1, ...extra };
}

const good = () => {
  offset = 0;
  return [
    doc('a', '1', 'deposit', 100, 100),
    doc('a', '2', 'withdraw_request', 60, 100, 60),
    doc('a', '3', 'withdraw', 60, 40, 0),
    doc('a', '4', 'withdraw', 50, -10, 0, { overdraft: true }),
    doc('b', '5', 'deposit', 5, 5),
  ];
};

t.same(checkInvariants(good()), [], 'a correct ledger passes');

t.test('each violation is named with its ids', async (t) => {
  const names = (docs: LedgerDoc[]) => checkInvariants(docs).map((v) => [v.check, v.ids]);
  const docs = good();
  docs[0]!.balanceAfter = 101;
  t.match(names(docs), [['conservation', ['1']]], 'money created');

  const reserved = good();
  reserved[2]!.reservedAfter = -1;
  t.match(names(reserved), [['reserved-never-negative', ['3']]]);

  const over = good();
  over[1]!.reservedAfter = 101;
  t.match(names(over), [['no-approval-beyond-available', ['2']]]);

  const unflagged = good();
  delete unflagged[3]!.overdraft;
  t.match(names(unflagged), [['negative-only-by-flagged-overdraft', ['4']], ['overdraft-flag-correct', ['4']]]);

  const twice = good();
  twice.push(doc('c', '1', 'deposit', 1, 1));
  t.match(names(twice), [['each-id-once', ['1']]]);
});

t.test('each-id-once: an id re-sent after the id window is a new transaction', async (t) => {
  offset = 0;
  const docs = [
    doc('a', 'x', 'deposit', 10, 10, 0, { receivedAt: 1_000 }),
    doc('a', 'x', 'deposit', 10, 20, 0, { receivedAt: 6_000 }),
    doc('a', 'y', 'deposit', 1, 21, 0, { receivedAt: 6_000 }),
  ];
  t.same(checkInvariants(docs, 4_999), [], 'decided anew after the window: not flagged');
  t.match(
    checkInvariants(docs, 5_000).map((v) => [v.check, v.ids]),
    [['each-id-once', ['x']]],
    'within the window (its bound included): flagged',
  );
  t.match(checkInvariants(docs).map((v) => [v.check, v.ids]), [['each-id-once', ['x']]], 'without a window, any repeat');
  // Judged against the previous decision of the id, in time order whatever the log order.
  docs.push(doc('b', 'x', 'deposit', 5, 5, 0, { receivedAt: 7_000, partition: 1 }));
  t.match(checkInvariants(docs, 4_999).map((v) => [v.check, v.ids]), [['each-id-once', ['x']]], 'a third one 1 s after the second');
  t.match(checkInvariants(docs, 4_999)[0]?.detail, /applied 3 times, 1 within the id window \(a, a, b\)/);
});

t.test('an account comes into being with its first change', async (t) => {
  offset = 0;
  const docs = [
    doc('ghost', 'r', 'withdraw_request', 10, 0, 0, { status: 'denied', reason: 'insufficient_funds' }),
    doc('ghost', 'c', 'cancel', 0, 0, 0, { status: 'not_found', reason: 'request_not_held' }),
    doc('a', 'r2', 'withdraw_request', 10, 0, 0, { status: 'denied', reason: 'insufficient_funds' }),
    doc('a', 'd', 'deposit', 10, 10),
    doc('a', 'w', 'withdraw', 10, 0),
    doc('a', 'r3', 'withdraw_request', 1, 0, 0, { status: 'denied', reason: 'insufficient_funds' }),
  ];
  t.same(checkInvariants(docs), [], 'decisions on an unknown account are valid ledger entries');
  const states = newestStates(docs);
  t.same([...states], [['a', { balance: 0, reserved: 0 }]], 'ghost never came into being; a did, and stays at zero');
  t.same(checkReadModel(states, new Map([['a', { balance: 0, reserved: 0 }]])), [], 'no read model entry needed for ghost');
  t.match(checkReadModel(states, new Map()), [{ check: 'read-model-equals-ledger', ids: ['a'] }]);
});

t.test('acknowledged, read model and replay comparisons', async (t) => {
  const docs = good();
  t.same(checkAcknowledged(docs, [{ id: '1', accountId: 'a' }]), []);
  t.match(checkAcknowledged(docs, [{ id: '9', accountId: 'a' }]), [{ check: 'acknowledged-present', ids: ['9'] }]);

  const states = newestStates(docs);
  t.same(states.get('a'), { balance: -10, reserved: 0 });
  t.same(checkReadModel(states, new Map([['a', { balance: -10, reserved: 0 }], ['b', { balance: 5, reserved: 0 }]])), []);
  t.match(checkReadModel(states, new Map([['a', { balance: -10, reserved: 0 }]])), [{ check: 'read-model-equals-ledger', ids: ['b'] }]);

  t.same(compareWithReplay(docs, good()), [], 'identical replay');
  const replay = good();
  replay[4]!.balanceAfter = 6;
  replay.push(doc('d', '7', 'deposit', 1, 1));
  t.match(compareWithReplay(docs.slice(1), replay), [
    { check: 'replay-missing', ids: ['0:0', '0:5'] },
    { check: 'replay-differs', ids: ['0:4'] },
  ]);
  t.match(compareWithReplay(docs, docs.slice(1)), [{ check: 'replay-extra', ids: ['0:0'] }]);

  // An id decided anew after the window: two documents, one per log position, both compared.
  offset = 0;
  const renewed = [doc('a', 'x', 'deposit', 10, 10, 0, { receivedAt: 1 }), doc('a', 'x', 'deposit', 10, 20, 0, { receivedAt: 9 })];
  t.same(compareWithReplay(renewed, renewed.map((d) => ({ ...d }))), [], 'both present');
  t.match(compareWithReplay(renewed.slice(0, 1), renewed), [{ check: 'replay-missing', ids: ['0:1'] }], 'the second one is not lost');
});

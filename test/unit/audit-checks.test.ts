// The audit's checks must catch each kind of violation they name.
import t from 'tap';
import type { LedgerDoc } from '../../common/types.js';
import { checkAcknowledged, checkInvariants, checkReadModel, compareWithReplay, newestStates } from '../../scripts/lib/audit-checks.js';

let offset = 0;
function doc(accountId: string, id: string, type: LedgerDoc['type'], amount: number, balanceAfter: number, reservedAfter = 0, extra: Partial<LedgerDoc> = {}): LedgerDoc {
  const status = type === 'withdraw_request' ? 'approved' : 'applied';
  return { _id: `${accountId}/${id}`, id, accountId, type, amount, status, balanceAfter, reservedAfter, partition: 0, offset: offset++, receivedAt: 1, ...extra };
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
    { check: 'replay-missing', ids: ['a/1', 'd/7'] },
    { check: 'replay-differs', ids: ['b/5'] },
  ]);
  t.match(compareWithReplay(docs, docs.slice(1)), [{ check: 'replay-extra', ids: ['a/1'] }]);
});

// Looking remembered ids up in the ledger (consumer/id-lookup.ts): the
// queries a batch makes, and the first outcome read back from the documents
// found, by the rule the partition remembers ids by: the newest decision of
// the id on the account in the partition, before the message, decided within
// the window; a request's status from the first cancel or lapse after it.
import t from 'tap';
import type { Filter } from 'mongodb';
import { decisionQueries, DurableDecisions, lookUp, statusQueries, type LedgerFinder } from '../../consumer/id-lookup.js';
import { decide, EMPTY_ACCOUNT, lapseHolds, type Account, type Position } from '../../consumer/ledger.js';
import { outcomeOfDocument } from '../../common/ledger-outcome.js';
import { recall, remember } from '../../common/remembered.js';
import type { LedgerDoc, TxMessage } from '../../common/types.js';
import { cancel, deposit, request, withdraw } from '../helpers/tx.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';

const P = 3;
const at = (offset: number, clock = 1_000 + offset): Position => ({ partition: P, offset, clock });
const RICH: Account = { balance: 1_000, reserved: 0, updatedAt: 0, holds: [] };

/** The decision document of `msg` at `offset`. */
function doc(msg: TxMessage, offset: number, account: Account = RICH, clock?: number): LedgerDoc {
  return decide(account, msg, at(offset, clock)).doc;
}

t.test('the queries: one a distinct id, whatever its accounts; one a request for its cancels and lapses', async (t) => {
  t.strictSame(decisionQueries(['a/x', 'b/x', 'a/y']), [{ id: 'x' }, { id: 'y' }]);
  t.strictSame(statusQueries(['r', 'r', 'q']), [
    { requestId: 'r', type: { $in: ['cancel', 'expire', 'transfer_post', 'transfer_void', 'reversal'] } },
    { requestId: 'q', type: { $in: ['cancel', 'expire', 'transfer_post', 'transfer_void', 'reversal'] } },
  ]);
});

t.test('a document reads back as the outcome the owner answered and remembered', async (t) => {
  const negative: Account = { balance: 5, reserved: 0, updatedAt: 0, holds: [] };
  const held: Account = { balance: 100, reserved: 40, updatedAt: 0, holds: [{ id: 'r', amount: 40, expiresAt: 9_000 }] };
  const cases: [string, Account, TxMessage][] = [
    ['a deposit', RICH, deposit('d', 'acc', 10)],
    ['a request with its time to live', RICH, request('r', 'acc', 10, { expiresInSeconds: 60 })],
    ['a denied request without one', EMPTY_ACCOUNT, request('r', 'acc', 10)],
    ['an overdraft', negative, withdraw('w', 'acc', 10)],
    ['a capture of a request not held', RICH, withdraw('w', 'acc', 10, { requestId: 'gone' })],
    ['a cancel', held, cancel('c', 'acc', 'r')],
    ['a cancel that found nothing', RICH, cancel('c', 'acc', 'r')],
  ];
  for (const [what, account, msg] of cases) {
    const d = decide(account, msg, at(7, 5_000));
    t.strictSame(outcomeOfDocument(d.doc as LedgerDoc & { type: TxMessage['type'] }), recall(msg.accountId, msg.id, remember(d.outcome)), what);
  }
  const old = { ...doc(deposit('d', 'acc', 10, { receivedAt: 900 }), 7, RICH, 5_000) };
  delete old.decidedAt;
  t.equal(outcomeOfDocument(old as LedgerDoc & { type: 'deposit' }).decidedAt, 900, 'a document from before decidedAt: its receivedAt');
});

t.test('the newest decision before the message, of this account and partition, within the window', async (t) => {
  const first = doc(deposit('x', 'acc', 10), 2, RICH, 1_000);
  const again = doc(deposit('x', 'acc', 20), 8, RICH, 5_000);
  const later = doc(deposit('x', 'acc', 30), 12, RICH, 6_000);
  const otherAccount = doc(deposit('x', 'other', 40), 3, RICH, 1_000);
  const otherPartition = { ...doc(deposit('x', 'acc', 50), 9, RICH, 5_500), partition: P + 1, _id: `${P + 1}:9` };
  const found = new DurableDecisions(P, new Set(['acc/x']), [first, again, later, otherAccount, otherPartition]);
  t.equal(found.firstOutcome('acc/x', 5, 0)?.amount, 10, 'before the second decision: the first');
  t.equal(found.firstOutcome('acc/x', 10, 0)?.amount, 20, 'after it: the newest, not one at or past the message');
  t.equal(found.firstOutcome('acc/x', 8, 0)?.amount, 10, "the message's own offset is not before it");
  t.equal(found.firstOutcome('acc/x', 10, 5_000)?.amount, 20, 'decided exactly at the horizon: remembered');
  t.equal(found.firstOutcome('acc/x', 10, 5_001), undefined, 'decided before it: forgotten');
  t.equal(found.firstOutcome('acc/x', 2, 0), undefined, 'nothing before the first');
  t.equal(found.firstOutcome('acc/y', 20, 0), undefined, 'an id not found');
  t.ok(found.lookedUp('acc/x'));
  t.notOk(found.lookedUp('other/x'), 'only the keys asked for');
});

t.test("an approved request takes the status of the first cancel or lapse after it, before the message", async (t) => {
  const req = doc(request('r', 'acc', 40, { expiresAt: 9_000 }), 2);
  const held: Account = { balance: 1_000, reserved: 40, updatedAt: 0, holds: [{ id: 'r', amount: 40, expiresAt: 9_000 }] };
  const notFound = doc(cancel('c0', 'acc', 'r'), 3, RICH);
  const cancelled = doc(cancel('c1', 'acc', 'r'), 5, held);
  const [lapse] = lapseHolds('acc', held, at(7, 9_000)).docs;
  const otherAccount = doc(cancel('c2', 'other', 'r'), 4, { ...held });
  const found = new DurableDecisions(P, new Set(['acc/r']), [req, notFound, cancelled, lapse!, { ...otherAccount, accountId: 'other' }]);
  t.equal(found.firstOutcome('acc/r', 4, 0)?.status, 'approved', 'a cancel that found nothing, or one on another account, changes nothing');
  t.equal(found.firstOutcome('acc/r', 5, 0)?.status, 'approved', 'a cancel at the message itself is not before it');
  t.equal(found.firstOutcome('acc/r', 6, 0)?.status, 'cancelled', 'cancelled');
  t.equal(found.firstOutcome('acc/r', 8, 0)?.status, 'cancelled', 'the first change stays');
  const onlyLapse = new DurableDecisions(P, new Set(['acc/r']), [req, lapse!]);
  t.equal(onlyLapse.firstOutcome('acc/r', 8, 0)?.status, 'expired', 'lapsed');
  t.strictSame(onlyLapse.changeableIds(), ['r'], 'an approved request: its fate is asked for');
  t.strictSame(new DurableDecisions(P, new Set(['acc/x']), [doc(request('x', 'acc', 10), 1, EMPTY_ACCOUNT)]).changeableIds(), [], 'a denied request: nothing can change it');
  t.strictSame(new DurableDecisions(P, new Set(['acc/x']), [doc(deposit('x', 'acc', 1), 1)]).changeableIds(), ['x'], 'an applied deposit: its reversals are asked for');
});

t.test('lookUp asks each id, then the fate of the approved requests only; nothing when there is nothing to ask', async (t) => {
  const db = new MemoryLedger();
  db.insert([doc(deposit('d', 'acc', 10), 0), doc(request('r', 'acc', 40), 1), doc(cancel('c', 'acc', 'r'), 2, { ...RICH, reserved: 40, holds: [{ id: 'r', amount: 40, expiresAt: 9_000 }] })]);
  const asked: Filter<LedgerDoc>[] = [];
  const finder: LedgerFinder = {
    find: ((query: Filter<LedgerDoc>) => {
      asked.push(query);
      return db.finder.find(query);
    }) as unknown as LedgerFinder['find'],
  };
  t.equal((await lookUp(finder, P, new Set())).firstOutcome('acc/d', 9, 0), undefined);
  t.strictSame(asked, [], 'no keys, no query');
  const found = await lookUp(finder, P, new Set(['acc/d', 'acc/r']));
  const laterChanges = ['cancel', 'expire', 'transfer_post', 'transfer_void', 'reversal'];
  t.strictSame(asked, [{ id: 'd' }, { id: 'r' }, { requestId: 'd', type: { $in: laterChanges } }, { requestId: 'r', type: { $in: laterChanges } }], 'two rounds');
  t.equal(found.firstOutcome('acc/d', 9, 0)?.status, 'applied');
  t.equal(found.firstOutcome('acc/r', 9, 0)?.status, 'cancelled', 'with its fate');
});

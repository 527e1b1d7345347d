// The total reversed of an original read back from the ledger
// (common/ledger-outcome.ts `withLaterStatus`): by the partition owner's
// lookup before a batch (consumer/id-lookup.ts) and by GET
// /v1/transactions/:id once Redis has let the id go (api/ledger-lookup.ts),
// exactly as memory had it: the applied reversals naming the original on its
// account in its partition, after it and before the message asking.
import t from 'tap';
import { ledgerTransaction } from '../../api/ledger-lookup.js';
import { DurableDecisions, lookUp } from '../../consumer/id-lookup.js';
import { decide, type Account, type Position } from '../../consumer/ledger.js';
import type { LedgerDoc, Outcome, TxMessage } from '../../common/types.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { deposit, request, reversal } from '../helpers/tx.js';

const P = 3;
const at = (offset: number, clock = 1_000 + offset): Position => ({ partition: P, offset, clock });
const RICH: Account = { balance: 1_000, reserved: 0, updatedAt: 0, holds: [] };
const ORIGINAL: Outcome = { id: 'd', accountId: 'acc', type: 'deposit', amount: 100, status: 'applied', balance: 100, reserved: 0, decidedAt: 1_000 };

function doc(msg: TxMessage, offset: number, original?: Outcome): LedgerDoc {
  return decide(RICH, msg, at(offset), original).doc;
}

const original = doc(deposit('d', 'acc', 100), 0);
const first = doc(reversal('rv1', 'acc', 'd', 30), 2, ORIGINAL);
const refused = doc(reversal('rv2', 'acc', 'd', 500), 3, { ...ORIGINAL, reversed: 30 });
const second = doc(reversal('rv3', 'acc', 'd'), 5, { ...ORIGINAL, reversed: 30 });
const otherAccount = { ...doc(reversal('rv4', 'other', 'd', 10), 4, ORIGINAL), accountId: 'other' };
const otherPartition = { ...doc(reversal('rv5', 'acc', 'd', 10), 4, ORIGINAL), partition: P + 1, _id: `${P + 1}:4` };
const docs = [original, first, refused, second, otherAccount, otherPartition];

t.test('the reversals before the message add up; a refused one, another account or partition do not count', async (t) => {
  t.equal(second.amount, 70, 'the remainder: 100 - 30');
  const found = new DurableDecisions(P, new Set(['acc/d']), docs);
  t.notOk('reversed' in found.firstOutcome('acc/d', 1, 0)!, 'none yet: no total at all, as memory has it');
  t.equal(found.firstOutcome('acc/d', 3, 0)?.reversed, 30);
  t.equal(found.firstOutcome('acc/d', 5, 0)?.reversed, 30, 'a reversal at the message itself is not before it');
  t.equal(found.firstOutcome('acc/d', 6, 0)?.reversed, 100);
  t.strictSame(found.changeableIds(), ['d']);
});

t.test('a reversal read twice (by its own id and by its original\'s, in one batch) counts once', async (t) => {
  const found = new DurableDecisions(P, new Set(['acc/d', 'acc/rv1']), [original, first, { ...first }]);
  t.equal(found.firstOutcome('acc/d', 9, 0)?.reversed, 30);
});

t.test('an id decided anew after the window starts from nothing: the reversals of the first decision came before it', async (t) => {
  const renewed = doc(deposit('d', 'acc', 40), 8);
  const found = new DurableDecisions(P, new Set(['acc/d']), [...docs, renewed]);
  t.match(found.firstOutcome('acc/d', 9, 0), { amount: 40, decidedAt: 1_008 });
  t.notOk('reversed' in found.firstOutcome('acc/d', 9, 0)!);
});

t.test('lookUp asks for the reversals of a reversible decision, and only of those', async (t) => {
  const db = new MemoryLedger();
  db.insert([...docs, doc(request('r', 'acc', 10), 6, undefined)]);
  const denied = decide({ ...RICH, status: 'closed' }, deposit('x', 'acc', 10), at(7)).doc;
  db.insert([denied]);
  const found = await lookUp(db.finder, P, new Set(['acc/d', 'acc/x']));
  t.equal(found.firstOutcome('acc/d', 99, 0)?.reversed, 100);
  t.strictSame(found.changeableIds(), ['d'], 'a denied deposit cannot have been reversed');
});

t.test("GET /v1/transactions/:id from the ledger: the original with its total reversed; a reversal as it was decided", async (t) => {
  const db = new MemoryLedger();
  db.insert(docs);
  t.match(await ledgerTransaction(db.finder, 'd', 'acc'), { type: 'deposit', amount: 100, reversed: 100 });
  t.match(await ledgerTransaction(db.finder, 'rv3', 'acc'), { type: 'reversal', status: 'applied', amount: 70, requestId: 'd', remainder: true });
  t.match(await ledgerTransaction(db.finder, 'rv2', 'acc'), { status: 'denied', reason: 'exceeds_original', amount: 500 });
});

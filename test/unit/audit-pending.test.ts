// The audit of two-phase transfers (docs/transfers.md, Two-phase transfers):
// a pending transfer's approval opens a hold, its post or void ends it, an
// applied post is a debit whose credit must match the amount posted, and
// conservation counts a post's money in flight.
import t from 'tap';
import type { LedgerDoc } from '../../common/types.js';
import { auditLedger, checkInvariants } from '../../scripts/operations/audit-checks.js';

const POSTED_AT = 7_000;
let offset = 0;

function doc(accountId: string, id: string, type: LedgerDoc['type'], amount: number, balanceAfter: number, reservedAfter: number, extra: Partial<LedgerDoc> = {}): LedgerDoc {
  const at = offset++;
  return { _id: `0:${at}`, id, accountId, type, amount, status: 'applied', balanceAfter, reservedAfter, partition: 0, offset: at, receivedAt: 1, decidedAt: at, ...extra };
}

const held = (id: string, amount: number, balanceAfter: number, reservedAfter: number) =>
  doc('alice', id, 'transfer', amount, balanceAfter, reservedAfter, { status: 'approved', pending: true, counterparty: 'bob' });
/** A post of `id`: `named` is what the call named (0: the whole hold), `posted` what it took. */
const post = (id: string, named: number, posted: number, balanceAfter: number, reservedAfter: number, extra: Partial<LedgerDoc> = {}) =>
  doc('alice', `po-${id}`, 'transfer_post', named, balanceAfter, reservedAfter, { requestId: id, postedAmount: posted, counterparty: 'bob', decidedAt: POSTED_AT, ...extra });
const credit = (id: string, amount: number, balanceAfter: number, extra: Partial<LedgerDoc> = {}) =>
  doc('bob', `${id}~credit~alice~${POSTED_AT}`, 'transfer_credit', amount, balanceAfter, 0, { counterparty: 'alice', transferId: id, ...extra });
const voided = (id: string, balanceAfter: number, reservedAfter: number) => doc('alice', `vo-${id}`, 'transfer_void', 0, balanceAfter, reservedAfter, { requestId: id });

function funded(): LedgerDoc[] {
  offset = 0;
  return [doc('alice', 'd1', 'deposit', 100, 100, 0)];
}

const checks = (docs: LedgerDoc[]) => checkInvariants(docs).map((v) => v.check).sort();

t.test('held, then posted whole and credited: every check passes, nothing in flight', async (t) => {
  const docs = [...funded(), held('tp1', 60, 100, 60), post('tp1', 0, 60, 40, 0), credit('tp1', 60, 60)];
  const { violations, totals } = auditLedger(docs);
  t.same(violations, []);
  t.strictSame([totals.inFlight, totals.balances, totals.reserved, totals.held], [0n, 100n, 0n, 0n]);
});

t.test('a part posted releases the rest; before its credit the amount posted is in flight', async (t) => {
  const docs = [...funded(), held('tp1', 60, 100, 60), post('tp1', 25, 25, 75, 0)];
  const { violations, totals } = auditLedger(docs);
  t.same(violations, []);
  t.equal(totals.inFlight, 25n, 'the amount posted, not the hold');
  t.same(checks([...docs, credit('tp1', 25, 25)]), []);
});

t.test('an open pending hold is counted as held; a void releases it', async (t) => {
  const open = [...funded(), held('tp1', 60, 100, 60)];
  const { violations, totals } = auditLedger(open);
  t.same(violations, []);
  t.strictSame([totals.reserved, totals.held], [60n, 60n]);
  t.same(checks([...open, voided('tp1', 100, 0)]), []);
});

t.test('each broken two-phase transfer is named', async (t) => {
  const base = () => [...funded(), held('tp1', 60, 100, 60)];
  t.same(checks([...base(), post('tp1', 0, 60, 40, 0), credit('tp1', 59, 59)]), ['total-conservation', 'transfer-leg-amount'], "a credit that is not the post's amount");
  t.same(checks([...base(), post('tp1', 0, 60, 40, 0), credit('tp1', 60, 60), credit('tp1', 60, 120)]), ['each-id-once', 'total-conservation', 'transfer-credited-once']);
  t.same(checks([...base(), post('tp1', 0, 60, 50, 0), credit('tp1', 60, 60)]), ['conservation', 'total-conservation'], 'a post that took less than it says');
  t.same(checks([...base(), doc('alice', 'c1', 'cancel', 0, 100, 0, { requestId: 'tp1' })]), ['reserved-equals-holds', 'total-reserved'], "a cancel cannot end a pending transfer's hold");
  t.same(checks([...base(), post('tp1', 0, 60, 40, 60), credit('tp1', 60, 60)]), ['reserved-equals-holds', 'total-reserved'], 'a post that left its hold reserved');
  const denied = post('tp1', 61, 0, 100, 60, { status: 'denied', reason: 'exceeds_pending' });
  delete denied.postedAmount;
  t.same(checks([...base(), denied, credit('tp1', 61, 61)]), ['total-conservation', 'transfer-leg-without-debit'], 'a denied post has no credit');
  t.same(checks([...funded(), held('tp2', 101, 100, 101)]), ['no-approval-beyond-available'], 'a hold past the available funds');
});

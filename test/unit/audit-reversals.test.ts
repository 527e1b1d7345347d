// The audit's books of reversals (scripts/operations/audit-reversals.ts): a
// ledger the rules wrote passes, with reversed deposits and withdrawals
// counted apart in total conservation and a reversed transfer credit in flight
// until its credit back lands; each kind of broken reversal is named.
import t from 'tap';
import { PartitionLedger } from '../../consumer/partition.js';
import type { LedgerDoc, LogMessage } from '../../common/types.js';
import { auditLedger, checkInvariants } from '../../scripts/operations/audit-checks.js';
import { deposit, request, reversal, transfer, withdraw } from '../helpers/tx.js';

/** The documents the rules write for `log`, one partition, in memory; the minted legs fed back at once when `legs`. */
function ledgerOf(log: LogMessage[], legs = true): LedgerDoc[] {
  const p = new PartitionLedger(0, 86_400_000);
  const docs: LedgerDoc[] = [];
  const queue = [...log];
  for (let offset = 0; queue.length > 0; offset++) {
    const step = p.apply(queue.shift()!, offset);
    docs.push(...step.docs);
    if (legs) queue.unshift(...step.minted);
  }
  return docs;
}

const checks = (docs: LedgerDoc[]) => checkInvariants(docs).map((v) => v.check);
const at = (receivedAt: number) => ({ receivedAt });

t.test('reversed deposits and withdrawals pass, counted apart from deposits and withdrawals', async (t) => {
  const docs = ledgerOf([
    deposit('d1', 'a', 100, at(1)),
    withdraw('w1', 'a', 30, at(2)),
    reversal('rv1', 'a', 'd1', 40, at(3)),
    reversal('rv2', 'a', 'w1', undefined, at(4)),
    reversal('rv3', 'a', 'd1', undefined, at(5)),
    // Past the funds: an overdraft, flagged.
    deposit('d2', 'b', 50, at(6)),
    withdraw('w2', 'b', 40, at(7)),
    reversal('rv4', 'b', 'd2', undefined, at(8)),
    reversal('rv5', 'b', 'd2', 1, at(9)),
  ]);
  t.match(docs.at(-2), { id: 'rv4', status: 'applied', overdraft: true, balanceAfter: -40 });
  t.match(docs.at(-1), { id: 'rv5', status: 'denied', reason: 'exceeds_original' });
  const { violations, totals } = auditLedger(docs);
  t.same(violations, []);
  t.strictSame([totals.deposited, totals.withdrawn, totals.reversedDeposits, totals.reversedWithdrawals, totals.balances], [150n, 70n, 150n, 30n, -40n]);
});

t.test("a reversed transfer credit is in flight until its credit back lands, then the money is the sender's again", async (t) => {
  const log = [deposit('d', 'from', 100, at(1)), transfer('t1', 'from', 'to', 60, at(2))];
  const completed = ledgerOf(log);
  const credit = completed.find((d) => d.type === 'transfer_credit')!;
  const inFlight = ledgerOf([...log, reversal('rv', 'to', credit.id, 25, at(3))]);
  // The credit back, minted by the reversal, is the last document once legs are fed back: drop it.
  const creditBack = inFlight.pop()!;
  t.match(creditBack, { type: 'transfer_credit', accountId: 'from', id: 'rv~credit~to~3', amount: 25 });
  const pending = auditLedger(inFlight);
  t.same(pending.violations, []);
  t.equal(pending.totals.inFlight, 25n, 'between the accounts');
  const landed = auditLedger([...inFlight, creditBack]);
  t.same(landed.violations, []);
  t.strictSame([landed.totals.inFlight, landed.totals.reversedDeposits, landed.totals.balances], [0n, 0n, 100n]);
  const misdirected = { ...creditBack, accountId: 'elsewhere' };
  t.ok(checks([...inFlight, misdirected]).includes('transfer-credit-account'), 'a credit back that lands on another account');
});

t.test('a reversal past its original is named, and so is one of nothing reversible', async (t) => {
  const docs = ledgerOf([deposit('d1', 'a', 100, at(1)), reversal('rv1', 'a', 'd1', 60, at(2)), reversal('rv2', 'a', 'd1', 40, at(3))]);
  const last = docs.at(-1)!;
  const tooMuch = { ...last, amount: 41, balanceAfter: last.balanceAfter - 1 };
  t.ok(checks([...docs.slice(0, -1), tooMuch]).includes('reversal-within-original'));
  t.same(checks(docs), [], 'to the unit: fine');

  const requested = ledgerOf([deposit('d1', 'a', 100, at(1)), request('q', 'a', 10, at(2))]);
  const forged: LedgerDoc = { ...requested.at(-1)!, _id: '0:9', offset: 9, id: 'rv', type: 'reversal', amount: 10, requestId: 'q', status: 'applied', balanceAfter: 90 };
  delete forged.expiresInSeconds;
  t.ok(checks([...requested, forged]).includes('reversal-of-reversible-original'), 'a reversal of a withdrawal request');
  const ofNothing = { ...forged, requestId: 'ghost' };
  t.ok(checks([...requested, ofNothing]).includes('reversal-of-reversible-original'), 'a reversal of an id never decided');
});

t.test('a reversal past the funds unflagged, or flagged within them, is named', async (t) => {
  const docs = ledgerOf([deposit('d1', 'a', 100, at(1)), withdraw('w', 'a', 50, at(2)), reversal('rv', 'a', 'd1', undefined, at(3))]);
  const unflagged = { ...docs.at(-1)! };
  delete unflagged.overdraft;
  t.ok(checks([...docs.slice(0, -1), unflagged]).includes('past-limit-only-by-flagged-overdraft'));
  t.ok(checks([...docs.slice(0, -1), unflagged]).includes('overdraft-flag-correct'));
  const within = ledgerOf([deposit('d1', 'a', 100, at(1)), reversal('rv', 'a', 'd1', 60, at(2))]);
  t.ok(checks([...within.slice(0, -1), { ...within.at(-1)!, overdraft: true }]).includes('overdraft-flag-correct'));
});

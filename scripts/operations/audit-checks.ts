// The invariants of docs/ledger-rules.md, checked over ledger documents, and the
// comparison of the ledger with a replay of the log. Pure: the audit script
// does the reading. Every sum is a BigInt: amounts and balances each stay within
// 2^53 - 1, but their sums need not, and a float sum past it would round away
// the very cent the audit is looking for.
import type { LedgerDoc } from '../../common/types.js';
import { documentDifferences } from '../../consumer/document-diff.js';
import { minorUnits, OpenHolds } from './audit-holds.js';
import { debitedAmount, TransferBooks } from './audit-transfers.js';
import { ReversalBooks } from './audit-reversals.js';

export interface Violation {
  check: string;
  detail: string;
  ids: string[];
}

/** Exact totals of the ledger: what conservation and the holds are checked against. */
export interface LedgerTotals {
  /** Applied deposits; a denied one changes no balance and is not counted. */
  deposited: bigint;
  /** Applied withdrawals, likewise. */
  withdrawn: bigint;
  /** The sum of every account's newest balance. */
  balances: bigint;
  /** The sum of every account's newest reserved. */
  reserved: bigint;
  /** The sum of the holds still open, followed from the documents. */
  held: bigint;
  /** Transfers debited and not yet credited or returned (docs/transfers.md): money between two accounts. */
  inFlight: bigint;
  /** Applied reversals of deposits: money out, not a withdrawal (scripts/operations/audit-reversals.ts). */
  reversedDeposits: bigint;
  /** Applied reversals of withdrawals: money back in, not a deposit. */
  reversedWithdrawals: bigint;
}

/** What the audit follows of one account while it walks the ledger in log order. */
interface AccountBooks {
  /** Applied deposits minus applied withdrawals so far, with the transfers' legs. */
  flow: bigint;
  balance: bigint;
  reserved: bigint;
  holds: OpenHolds;
  /** The overdraft limit the account's applied settings set (0 until they do). */
  overdraftLimit: bigint;
}

/** What an applied document of each type adds to its account's balance, as a sign. */
const FLOW_SIGN: Partial<Record<LedgerDoc['type'], 1n | -1n>> = {
  deposit: 1n,
  withdraw: -1n,
  transfer: -1n,
  // By its amount posted (`postedAmount`): its `amount` is what the call named, 0 for the whole hold.
  transfer_post: -1n,
  transfer_credit: 1n,
  transfer_return: 1n,
};

type Report = (check: string, detail: string, ids: string[]) => void;

/**
 * Ledger documents in log order. Lapses come before the decision at their offset (holds lapse
 * before the message is decided), in the order of the ordinal in their `_id`
 * (`expiryDocId` in consumer/ledger.ts: partition:offset:ordinal:hold): several holds of one
 * account may lapse at one offset, each document carrying the reserved left after it.
 */
export function sortByLog(docs: LedgerDoc[]): LedgerDoc[] {
  const lapseOrder = (d: LedgerDoc) => (d.type === 'expire' ? Number(d._id.split(':')[2]) : Number.MAX_SAFE_INTEGER);
  return [...docs].sort((a, b) => a.partition - b.partition || a.offset - b.offset || lapseOrder(a) - lapseOrder(b));
}

/**
 * The invariants of docs/ledger-rules.md over ledger documents, and the ledger's exact totals.
 * `idWindowMs`: how long the owners remember ids. An id re-sent after the window is a new
 * transaction with a document of its own, so `each-id-once` flags only a repeat that came within
 * the window of the id's previous decision (judged by receivedAt, close to the log clock that the
 * owners judge by; the comparison with a replay of the log is exact). Without it, any repeat is
 * flagged.
 */
export function auditLedger(docs: LedgerDoc[], idWindowMs = Infinity): { violations: Violation[]; totals: LedgerTotals } {
  const violations: Violation[] = [];
  const report: Report = (check, detail, ids) => violations.push({ check, detail, ids });
  const accounts = new Map<string, AccountBooks>();
  const byId = new Map<string, { accountId: string; receivedAt: number }[]>();
  const totals: LedgerTotals = { deposited: 0n, withdrawn: 0n, balances: 0n, reserved: 0n, held: 0n, inFlight: 0n, reversedDeposits: 0n, reversedWithdrawals: 0n };
  const transfers = new TransferBooks();
  const reversals = new ReversalBooks();

  for (const d of sortByLog(docs)) {
    let books = accounts.get(d.accountId);
    if (!books) accounts.set(d.accountId, (books = { flow: 0n, balance: 0n, reserved: 0n, holds: new OpenHolds(), overdraftLimit: 0n }));
    if (d.status === 'applied' && d.type === 'deposit') totals.deposited += minorUnits(d.amount);
    if (d.status === 'applied' && d.type === 'withdraw') totals.withdrawn += minorUnits(d.amount);
    checkStep(d, books, report, reversals.follow(d, report));
    transfers.follow(d);
    if (d.type !== 'expire') {
      // Ids are per account: the registry across accounts is best effort and short (docs/read-model.md).
      const key = `${d.accountId}/${d.id}`;
      const decisions = byId.get(key) ?? [];
      decisions.push({ accountId: d.accountId, receivedAt: d.receivedAt });
      byId.set(key, decisions);
    }
  }
  checkIdsOnce(byId, idWindowMs, report);
  totals.inFlight = transfers.check(report);
  totals.reversedDeposits = reversals.reversedDeposits;
  totals.reversedWithdrawals = reversals.reversedWithdrawals;
  for (const books of accounts.values()) {
    totals.balances += books.balance;
    totals.reserved += books.reserved;
    totals.held += books.holds.total;
  }
  violations.push(...checkTotals(totals));
  return { violations, totals };
}

export function checkInvariants(docs: LedgerDoc[], idWindowMs = Infinity): Violation[] {
  return auditLedger(docs, idWindowMs).violations;
}

/**
 * The invariants that hold after each document, against the account's books
 * before it; updates the books. `reversalSign`: of an applied reversal, what
 * it adds to the balance, which its original decides.
 */
function checkStep(d: LedgerDoc, books: AccountBooks, report: Report, reversalSign?: 1n | -1n): void {
  const inexact = (['amount', 'balanceAfter', 'reservedAfter'] as const).filter((k) => !Number.isSafeInteger(d[k]));
  if (inexact.length > 0) report('exact-amounts', `${d.accountId} ${inexact.map((k) => `${k} ${d[k]}`).join(', ')}: not a whole number within 2^53 - 1`, [d.id]);
  const amount = minorUnits(debitedAmount(d) ?? d.amount);
  const balance = minorUnits(d.balanceAfter);
  const reserved = minorUnits(d.reservedAfter);
  const sign = d.status === 'applied' ? (FLOW_SIGN[d.type] ?? reversalSign) : undefined;
  if (sign !== undefined) books.flow += sign * amount;
  if (d.type === 'account_settings' && d.status === 'applied' && d.overdraftLimit !== undefined) books.overdraftLimit = minorUnits(d.overdraftLimit);
  books.holds.follow(d);
  // Conservation at every step: the balance is always what the money in and out made it.
  if (balance !== books.flow) report('conservation', `${d.accountId} balance ${balance} but the money in minus out = ${books.flow}`, [d.id]);
  if (reserved < 0n) report('reserved-never-negative', `${d.accountId} reserved ${reserved}`, [d.id]);
  // A hold approved (a withdrawal request, a two-phase transfer) or a transfer's debit.
  const approval = d.status === 'approved' || (d.type === 'transfer' && d.status === 'applied');
  if (approval && balance - reserved < -books.overdraftLimit) {
    report('no-approval-beyond-available', `${d.accountId} available ${balance - reserved} after approval, limit ${books.overdraftLimit}`, [d.id]);
  }
  // Past the limit (below zero without one) only by a withdrawal, or a reversal of money in, flagged
  // as an overdraft: a debit within the limit is not one, and an approval past it is flagged above.
  // A post pays what was held when it was approved: where a withdrawal took the balance since is not its doing.
  const postsPastFunds = d.type === 'withdraw' || (d.type === 'reversal' && reversalSign === -1n);
  const wentPastLimit = balance < -books.overdraftLimit && balance < books.balance && d.type !== 'transfer_post';
  if (wentPastLimit && !(postsPastFunds && d.overdraft) && !approval) {
    report('past-limit-only-by-flagged-overdraft', `${d.accountId} fell to ${balance} by ${d.type}, limit ${books.overdraftLimit}`, [d.id]);
  }
  if (postsPastFunds && d.status === 'applied' && Boolean(d.overdraft) !== balance < -books.overdraftLimit) {
    report('overdraft-flag-correct', `${d.accountId} withdrawal to ${balance} flagged ${Boolean(d.overdraft)}, limit ${books.overdraftLimit}`, [d.id]);
  }
  if (reserved !== books.holds.total) report('reserved-equals-holds', `${d.accountId} reserved ${reserved} but its open holds add up to ${books.holds.total}`, [d.id]);
  books.balance = balance;
  books.reserved = reserved;
}

function checkIdsOnce(byId: Map<string, { accountId: string; receivedAt: number }[]>, idWindowMs: number, report: Report): void {
  for (const [key, decisions] of byId) {
    if (decisions.length < 2) continue;
    const id = key.slice(key.indexOf('/') + 1);
    decisions.sort((a, b) => a.receivedAt - b.receivedAt);
    const repeats = decisions.filter((d, i) => i > 0 && d.receivedAt - decisions[i - 1]!.receivedAt <= idWindowMs).length;
    if (repeats > 0) {
      report('each-id-once', `${id} applied ${decisions.length} times on ${decisions[0]!.accountId}, ${repeats} within the id window`, [id]);
    }
  }
}

/**
 * The whole ledger's sums: the balances and the money between a transfer's
 * legs are what deposits minus withdrawals left, less the deposits reversed
 * and with the withdrawals reversed; every reserved unit is held.
 */
export function checkTotals(totals: LedgerTotals): Violation[] {
  const out: Violation[] = [];
  const { deposited, withdrawn, balances, reserved, held, inFlight, reversedDeposits, reversedWithdrawals } = totals;
  const net = deposited - withdrawn - reversedDeposits + reversedWithdrawals;
  if (balances + inFlight !== net) {
    out.push({
      check: 'total-conservation',
      detail: `balances ${balances} + transfers in flight ${inFlight} = ${balances + inFlight} but deposits - withdrawals - reversed deposits + reversed withdrawals = ${deposited} - ${withdrawn} - ${reversedDeposits} + ${reversedWithdrawals} = ${net}`,
      ids: [],
    });
  }
  if (reserved !== held) out.push({ check: 'total-reserved', detail: `reserved adds up to ${reserved} but the open holds to ${held}`, ids: [] });
  return out;
}

/** Every acknowledged id must be in the ledger. */
export function checkAcknowledged(docs: LedgerDoc[], acknowledged: { id: string; accountId: string }[]): Violation[] {
  const present = new Set(docs.map((d) => `${d.accountId}/${d.id}`));
  const missing = acknowledged.filter((a) => !present.has(`${a.accountId}/${a.id}`)).map((a) => a.id);
  return missing.length ? [{ check: 'acknowledged-present', detail: `${missing.length} acknowledged calls missing from the ledger`, ids: missing }] : [];
}

/** The ledger must equal, document by document, what a replay of the log through the rules writes. */
export function compareWithReplay(stored: LedgerDoc[], replayed: LedgerDoc[]): Violation[] {
  const byId = new Map(stored.map((d) => [d._id, d]));
  const missing: string[] = [];
  const differ: string[] = [];
  for (const r of replayed) {
    const s = byId.get(r._id);
    byId.delete(r._id);
    if (!s) missing.push(r._id);
    else if (documentDifferences(s, r).length > 0) differ.push(r._id);
  }
  const extra = [...byId.keys()];
  const out: Violation[] = [];
  if (missing.length) out.push({ check: 'replay-missing', detail: `${missing.length} documents of the replay are not in the ledger`, ids: missing });
  if (differ.length) out.push({ check: 'replay-differs', detail: `${differ.length} documents differ from the replay`, ids: differ });
  if (extra.length) out.push({ check: 'replay-extra', detail: `${extra.length} ledger documents no replay produces`, ids: extra });
  return out;
}

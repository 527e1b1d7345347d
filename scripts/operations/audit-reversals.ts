// The audit's books of reversals (docs/transfers.md, Reversals): each applied
// reversal undoes a reversible original of its account, decided before it in
// its partition (the newest decision of that id, as the owner remembers it),
// and never takes back more than that original in total. What a reversal does
// to its account's balance follows from its original: a reversed deposit or
// transfer credit is money out, a reversed withdrawal money back in.
//
// The bookkeeping of conservation: a reversal is neither a deposit nor a
// withdrawal, so the totals count them apart. A reversed deposit is money that
// leaves the ledger, a reversed withdrawal money that comes back into it, and
// a reversed transfer credit money that moves between two accounts, through
// its credit back (scripts/operations/audit-transfers.ts counts it in flight
// until then):
//   deposits - withdrawals - reversed deposits + reversed withdrawals
//     = balances + transfers in flight.
import { REVERSIBLE_TYPES } from '../../common/ledger-outcome.js';
import type { LedgerDoc } from '../../common/types.js';
import { minorUnits } from './audit-holds.js';

type Report = (check: string, detail: string, ids: string[]) => void;

interface Original {
  type: LedgerDoc['type'];
  applied: boolean;
  amount: bigint;
  reversed: bigint;
}

export class ReversalBooks {
  /** The newest decision of each id, by `partition/account/id`, as the walk in log order has reached it. */
  private readonly decisions = new Map<string, Original>();
  /** Applied reversals of deposits, and of withdrawals: the totals conservation counts. */
  reversedDeposits = 0n;
  reversedWithdrawals = 0n;

  /**
   * Takes every document in log order. For an applied reversal, returns what
   * it adds to its account's balance, as a sign (-1 for money out, 1 for money
   * in); undefined for any other document, or a reversal of nothing
   * reversible (reported: its balance then fails conservation too).
   */
  follow(doc: LedgerDoc, report: Report): 1n | -1n | undefined {
    if (doc.type === 'expire') return undefined;
    const original = doc.type === 'reversal' && doc.requestId !== undefined ? this.decisions.get(keyOf(doc, doc.requestId)) : undefined;
    this.decisions.set(keyOf(doc, doc.id), { type: doc.type, applied: doc.status === 'applied', amount: minorUnits(doc.amount), reversed: 0n });
    if (doc.type !== 'reversal' || doc.status !== 'applied') return undefined;
    if (!original || !original.applied || !REVERSIBLE_TYPES.includes(original.type as never)) {
      report('reversal-of-reversible-original', `${doc.accountId} ${doc.id} reverses ${doc.requestId}, which is no applied deposit, withdrawal or transfer credit before it`, [doc.id]);
      return undefined;
    }
    const amount = minorUnits(doc.amount);
    original.reversed += amount;
    if (original.reversed > original.amount) {
      report('reversal-within-original', `${doc.accountId} ${doc.requestId} of ${original.amount} reversed ${original.reversed} in total by ${doc.id}`, [doc.requestId!, doc.id]);
    }
    if (original.type === 'withdraw') {
      this.reversedWithdrawals += amount;
      return 1n;
    }
    if (original.type === 'deposit') this.reversedDeposits += amount;
    return -1n;
  }
}

function keyOf(doc: LedgerDoc, id: string): string {
  return `${doc.partition}/${doc.accountId}/${id}`;
}

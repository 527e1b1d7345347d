// The audit's books of transfers (docs/transfers.md): each applied debit has at
// most one credit, each refused credit at most one return, every credit and
// return answers a debit of the same amount, and the money still between the
// legs at the cut (debited and not yet credited, or refused and not yet
// returned) is what total conservation counts beside the balances.
//
// An applied post of a two-phase transfer is a debit too: of the transfer's
// id (its `requestId`) on `from`, at the post's `decidedAt`, moving the
// amount posted (`postedAmount`) to the hold's account (its `counterparty`).
//
// A credit names its debit in its id (`<transferId>~credit~<from>~<decidedAt>`)
// and a return in its own (`<transferId>~return~<decidedAt>`, on `from`): the
// debit of transfer `transferId` on `from`, decided at `decidedAt` by its
// partition's clock. That is the key the books match legs by.
//
// An applied reversal of a transfer's credit (docs/transfers.md, Reversals)
// is a debit of the account credited, whose leg is the credit back to the
// account the credit came from: its own id stands for the transfer's, and the
// account its credit must land on is the one the reversed credit's id names.
import { decidedAtOf } from '../../common/ledger-outcome.js';
import { parseCreditId, parseReturnId } from '../../common/transfer-ids.js';
import type { LedgerDoc } from '../../common/types.js';
import { minorUnits } from './audit-holds.js';

type Report = (check: string, detail: string, ids: string[]) => void;

interface Debit {
  doc: LedgerDoc;
  /** What the debit took from `from`: a transfer's amount, a post's amount posted, a reversal's amount. */
  amount: number;
  /**
   * The account its credit must land on: a transfer's or a post's counterparty, or for a reversal
   * the account the reversed credit came from.
   */
  creditAccount: string | undefined;
  credits: LedgerDoc[];
  returns: LedgerDoc[];
}

/** The debit a credit or return names: `from/transferId/decidedAt`; undefined when its id does not parse. */
export function debitKeyOfLeg(doc: Pick<LedgerDoc, 'id' | 'type' | 'accountId'>): string | undefined {
  if (doc.type === 'transfer_credit') {
    const credit = parseCreditId(doc.id);
    return credit && `${credit.from}/${credit.transferId}/${credit.decidedAt}`;
  }
  if (doc.type === 'transfer_return') {
    const refund = parseReturnId(doc.id);
    return refund && `${doc.accountId}/${refund.transferId}/${refund.decidedAt}`;
  }
  return undefined;
}

/** The key of a debit: `from/transferId/decidedAt`; of a post, its transfer's id and its own time. */
function debitKey(doc: LedgerDoc): string {
  return `${doc.accountId}/${doc.type === 'transfer_post' ? doc.requestId : doc.id}/${decidedAtOf(doc)}`;
}

/** What an applied document took from its account for a credit elsewhere: an applied single-phase debit's amount, or a post's; undefined for any other. */
export function debitedAmount(doc: LedgerDoc): number | undefined {
  if (doc.status !== 'applied') return undefined;
  if (doc.type === 'transfer') return doc.amount;
  if (doc.type === 'transfer_post') return doc.postedAmount ?? 0;
  return undefined;
}

export class TransferBooks {
  private readonly debits = new Map<string, Debit>();
  private readonly legs: LedgerDoc[] = [];

  /**
   * Takes every document; only the transfers' legs matter here. The legs are
   * matched in `check`, once every document is in: a credit lies in another
   * partition than its debit, and the audit walks the partitions one by one.
   */
  follow(doc: LedgerDoc): void {
    const amount = debitedAmount(doc);
    if (amount !== undefined) this.debits.set(debitKey(doc), { doc, amount, creditAccount: doc.counterparty, credits: [], returns: [] });
    else if (doc.type === 'transfer_credit' || doc.type === 'transfer_return') this.legs.push(doc);
    else if (doc.type === 'reversal' && doc.status === 'applied') {
      const reversed = doc.requestId === undefined ? undefined : parseCreditId(doc.requestId);
      if (reversed) this.debits.set(debitKey(doc), { doc, amount: doc.amount, creditAccount: reversed.from, credits: [], returns: [] });
    }
  }

  private match(): LedgerDoc[] {
    const orphans: LedgerDoc[] = [];
    for (const leg of this.legs) {
      const key = debitKeyOfLeg(leg);
      const debit = key === undefined ? undefined : this.debits.get(key);
      if (!debit) orphans.push(leg);
      else if (leg.type === 'transfer_credit') debit.credits.push(leg);
      else debit.returns.push(leg);
    }
    return orphans;
  }

  /** Checks the legs against their debits; returns the money between the legs at the cut. */
  check(report: Report): bigint {
    for (const orphan of this.match()) report('transfer-leg-without-debit', `${orphan.type} ${orphan.id} on ${orphan.accountId} answers no applied debit`, [orphan.id]);
    let inFlight = 0n;
    for (const { doc, amount, creditAccount, credits, returns } of this.debits.values()) {
      const legs = [...credits, ...returns];
      for (const leg of legs) {
        if (leg.amount !== amount) report('transfer-leg-amount', `${leg.id} moves ${leg.amount} for a debit of ${amount}`, [doc.id, leg.id]);
      }
      for (const credit of credits) {
        if (credit.accountId !== creditAccount) report('transfer-credit-account', `${credit.id} credits ${credit.accountId}, the debit names ${creditAccount}`, [doc.id, credit.id]);
      }
      if (credits.length > 1) report('transfer-credited-once', `${doc.accountId} ${doc.id} has ${credits.length} credits`, [doc.id]);
      if (returns.length > 1) report('transfer-returned-once', `${doc.accountId} ${doc.id} has ${returns.length} returns`, [doc.id]);
      const refused = credits.some((credit) => credit.status !== 'applied');
      if (returns.length > 0 && !refused) report('transfer-return-only-after-refusal', `${doc.accountId} ${doc.id} returned but its credit was not refused`, [doc.id]);
      const settled = credits.some((credit) => credit.status === 'applied') || returns.some((ret) => ret.status === 'applied');
      if (!settled) inFlight += minorUnits(amount);
    }
    return inFlight;
  }
}

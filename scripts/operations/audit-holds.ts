// The open holds of one account, followed from its ledger documents alone, so
// the audit can check that reserved is the sum of the holds (invariant 2 of
// docs/ledger-rules.md) without trusting the rules it audits. Amounts are
// BigInt: a sum of amounts each within 2^53 - 1 can pass it.
import type { LedgerDoc } from '../../common/types.js';

interface OpenHold {
  id: string;
  amount: bigint;
  /** A pending transfer's hold (docs/transfers.md): only its post, its void or its lapse ends it. */
  pendingTransfer?: true;
}

export class OpenHolds {
  /** Oldest first, as the rules keep them: a withdrawal without `requestId` consumes the oldest requests'. */
  private holds: OpenHold[] = [];
  /** The sum of `holds`, kept as they change. */
  private held = 0n;

  get total(): bigint {
    return this.held;
  }

  /** What `doc`, the account's next document in log order, did to its holds. */
  follow(doc: LedgerDoc): void {
    const amount = minorUnits(doc.amount);
    const released = doc.status === 'applied' ? doc.requestId : undefined;
    switch (doc.type) {
      case 'withdraw_request':
        if (doc.status === 'approved') this.add({ id: doc.id, amount });
        return;
      case 'cancel':
        if (released !== undefined) this.release(released, { pendingTransfer: false });
        return;
      case 'transfer':
        // A pending transfer approved holds its amount; a single-phase one moves money at once.
        if (doc.status === 'approved') this.add({ id: doc.id, amount, pendingTransfer: true });
        return;
      case 'transfer_post':
      case 'transfer_void':
        // Applied, either ends the hold whole: a post takes what it names of it and releases the rest.
        if (released !== undefined) this.release(released, { pendingTransfer: true });
        return;
      case 'expire':
        // A lapse records what was still held; two open holds with one id (a request id re-sent
        // after the id window while its first hold was open) are told apart by it where they differ.
        if (released !== undefined) this.release(released, { amount });
        return;
      case 'withdraw':
        if (doc.status !== 'applied') return;
        // A withdrawal naming a hold that is not held (reason request_not_held) finds none here either.
        if (doc.requestId === undefined) this.consumeOldest(amount);
        else this.release(doc.requestId, { pendingTransfer: false });
        return;
      case 'deposit':
      case 'transfer_credit':
      case 'transfer_return':
      case 'account_settings':
      case 'reversal':
        // None of these touches holds: a transfer's credit and return and a reversal move money
        // at once (docs/transfers.md), and a settings change moves none.
        return;
      default:
        // A new kind of document must say here what it does to holds: this compiles only while
        // every type is listed. One of no known type (a damaged document) changes none.
        doc.type satisfies never;
        return;
    }
  }

  private add(hold: OpenHold): void {
    this.holds.push(hold);
    this.held += hold.amount;
  }

  /**
   * Releases the oldest open hold of `id` (of that amount, when given and one
   * matches; of that kind, when given: a cancel or a withdrawal ends only a
   * request's hold, a post or a void only a pending transfer's).
   */
  private release(id: string, which: { amount?: bigint; pendingTransfer?: boolean }): void {
    const { amount, pendingTransfer } = which;
    const named = (h: OpenHold) => h.id === id && (pendingTransfer === undefined || (h.pendingTransfer === true) === pendingTransfer);
    let index = amount === undefined ? -1 : this.holds.findIndex((h) => named(h) && h.amount === amount);
    if (index < 0) index = this.holds.findIndex(named);
    if (index < 0) return;
    this.held -= this.holds[index]!.amount;
    this.holds.splice(index, 1);
  }

  /** Takes `amount` from the oldest requests' holds first, as a withdrawal without `requestId` does. */
  private consumeOldest(amount: bigint): void {
    let left = amount;
    const kept: OpenHold[] = [];
    for (const hold of this.holds) {
      if (hold.pendingTransfer) {
        kept.push(hold);
        continue;
      }
      const taken = left < hold.amount ? left : hold.amount;
      left -= taken;
      this.held -= taken;
      if (taken < hold.amount) kept.push({ ...hold, amount: hold.amount - taken });
    }
    this.holds = kept;
  }
}

/**
 * A stored amount as an exact integer. Anything not a whole number (a corrupt
 * document) counts as 0 here; `checkInvariants` flags it as `exact-amounts`.
 */
export function minorUnits(value: number): bigint {
  return Number.isInteger(value) ? BigInt(value) : 0n;
}

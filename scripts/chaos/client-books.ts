// A client's own books: what it was told, account by account. A careful client
// retries a call with the same id until it gets an answer that carries a
// decision or an acceptance, so at the end its books must equal the ledger.

export type CallType = 'deposit' | 'withdraw_request' | 'withdraw' | 'transfer';

export interface Answer {
  status: number;
  /** The ledger's status in the body (applied, approved, denied, pending...). */
  outcome?: string;
  reason?: string;
}

/**
 * An answer the client keeps: a decision (200/201/402) or an acceptance (202).
 * A transfer's 202 is not kept: its debit may yet be denied, so the client
 * asks again with the same id until the answer says which (a repeat answers
 * the transfer's state, docs/transfers.md).
 */
export function isAcknowledged(a: Answer, type?: CallType): boolean {
  if (type === 'transfer' && a.status === 202) return false;
  return a.status === 200 || a.status === 201 || a.status === 202 || a.status === 402;
}

export class Books {
  readonly balances = new Map<string, number>();
  /** Approved holds not yet settled, per account: the client settles each with a withdrawal. */
  readonly toSettle = new Map<string, number[]>();
  readonly acknowledged: { id: string; accountId: string }[] = [];
  readonly failures = new Map<string, number>();
  /** The wall-clock seconds (since the epoch) in which at least one attempt failed. */
  readonly failingSeconds = new Set<number>();
  calls = 0;

  /** Records one attempt's answer; returns whether the call is done (no retry needed). */
  record(id: string, accountId: string, type: CallType, amount: number, answer: Answer | 'network', to?: string): boolean {
    this.calls++;
    if (answer === 'network' || !isAcknowledged(answer, type)) {
      const key = answer === 'network' ? 'network' : String(answer.status);
      this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
      this.failingSeconds.add(Math.floor(Date.now() / 1000));
      return false;
    }
    this.acknowledged.push({ id, accountId });
    const balance = this.balances.get(accountId) ?? 0;
    if (type === 'deposit') this.balances.set(accountId, balance + amount);
    if (type === 'withdraw') this.balances.set(accountId, balance - amount);
    if (type === 'transfer' && to !== undefined && answer.outcome === 'completed') {
      this.balances.set(accountId, balance - amount);
      this.balances.set(to, (this.balances.get(to) ?? 0) + amount);
    }
    if (type === 'withdraw_request' && answer.status === 201) {
      const holds = this.toSettle.get(accountId) ?? [];
      holds.push(amount);
      this.toSettle.set(accountId, holds);
    }
    // A 402 (denied, or not decided in time and so cancelled) holds nothing; 202 is applied later.
    return true;
  }

  /** Takes the oldest approved hold of an account, to settle it. */
  nextToSettle(accountId: string): number | undefined {
    return this.toSettle.get(accountId)?.shift();
  }

  failedTotal(): number {
    let n = 0;
    for (const v of this.failures.values()) n += v;
    return n;
  }
}

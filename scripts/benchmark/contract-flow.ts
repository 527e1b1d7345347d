// The benchmark's workload, the way a card processor drives a ledger:
// deposits and withdrawal requests (authorisations) over a fixed set of
// accounts, and for every approved request (201) a withdrawal of the same
// amount on the same account (the settlement), sent as the next call of the
// flow. Every call has a new id. Pure and seeded, so tests can replay it.

export type FlowTxType = 'deposit' | 'withdraw_request' | 'withdraw' | 'transfer';

export interface FlowTx {
  id: string;
  type: FlowTxType;
  accountId: string;
  amount: number;
  /** A transfer's account credited (`accountId` is the one debited). */
  to?: string;
}

export interface FlowOptions {
  /** How many accounts the calls spread over (uniformly). */
  accounts: number;
  /** Accounts are `<accountPrefix>-<n>`. */
  accountPrefix: string;
  /** Ids are `<idPrefix>-<counter in base 36>`: unique within the run as long as the prefix is. */
  idPrefix: string;
  /** Share of new calls that are deposits; the rest are withdrawal requests. */
  depositShare: number;
  seed: number;
  /** Amounts in minor units, uniform in [min, max]. */
  depositAmount: [number, number];
  requestAmount: [number, number];
  /**
   * Share of new calls that are transfers between two random accounts (the
   * transfers phase); 0 or absent: none, and the flow draws exactly the
   * numbers it drew before transfers, so a seed gives the same calls.
   */
  transferShare?: number;
  transferAmount?: [number, number];
}

export const DEFAULT_FLOW: Omit<FlowOptions, 'accountPrefix' | 'idPrefix'> = {
  accounts: 10_000,
  depositShare: 0.5,
  seed: 1,
  depositAmount: [1_000, 20_000],
  requestAmount: [500, 15_000],
};

/** mulberry32: a small, fast, seedable PRNG; plenty for picking accounts and amounts. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FlowCounts {
  deposit: number;
  withdraw_request: number;
  withdraw: number;
  transfer: number;
  /** Transfers answered completed (200/201) and refused (402: the debit denied, or the credit returned). */
  completed: number;
  refused: number;
  approved: number;
  denied: number;
  /** Requests whose answer was neither 201 nor 402 (202, 5xx, ...), or never came. */
  undecided: number;
}

export class Flow {
  private readonly rand: () => number;
  private counter = 0;
  /** Settlements owed: approvals whose withdrawal has not been sent yet, oldest first. */
  private readonly owed: { accountId: string; amount: number }[] = [];
  readonly counts: FlowCounts = { deposit: 0, withdraw_request: 0, withdraw: 0, transfer: 0, completed: 0, refused: 0, approved: 0, denied: 0, undecided: 0 };

  constructor(readonly options: FlowOptions) {
    if (options.accounts < 1) throw new Error('a flow needs at least one account');
    this.rand = prng(options.seed);
  }

  private between([min, max]: [number, number]): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }

  account(n: number): string {
    return `${this.options.accountPrefix}-${n}`;
  }

  private nextId(): string {
    return `${this.options.idPrefix}-${(this.counter++).toString(36)}`;
  }

  /** The next call: a settlement if one is owed, else a deposit or a withdrawal request. */
  next(): FlowTx {
    const settle = this.owed.shift();
    if (settle) {
      this.counts.withdraw++;
      return { id: this.nextId(), type: 'withdraw', ...settle };
    }
    const accountId = this.account(Math.floor(this.rand() * this.options.accounts));
    const { transferShare = 0, transferAmount = [100, 2_000] } = this.options;
    if (transferShare > 0 && this.rand() < transferShare) {
      this.counts.transfer++;
      const to = this.account(Math.floor(this.rand() * this.options.accounts));
      return { id: this.nextId(), type: 'transfer', accountId, to, amount: this.between(transferAmount) };
    }
    if (this.rand() < this.options.depositShare) {
      this.counts.deposit++;
      return { id: this.nextId(), type: 'deposit', accountId, amount: this.between(this.options.depositAmount) };
    }
    this.counts.withdraw_request++;
    return { id: this.nextId(), type: 'withdraw_request', accountId, amount: this.between(this.options.requestAmount) };
  }

  /** The answer to `tx`: an approval (201) makes its settlement the next call. */
  answered(tx: FlowTx, status: number): void {
    if (tx.type === 'transfer') {
      if (status === 200 || status === 201) this.counts.completed++;
      else if (status === 402) this.counts.refused++;
      else this.counts.undecided++;
      return;
    }
    if (tx.type !== 'withdraw_request') return;
    if (status === 201) {
      this.counts.approved++;
      this.owed.push({ accountId: tx.accountId, amount: tx.amount });
    } else if (status === 402) this.counts.denied++;
    else this.counts.undecided++;
  }

  /** Settlements still owed (sent by the bench after the load stops). */
  get owedCount(): number {
    return this.owed.length;
  }

  /** Takes the owed settlements out of the flow, as calls to send. */
  drainOwed(): FlowTx[] {
    const out: FlowTx[] = [];
    while (this.owed.length > 0) out.push(this.next());
    return out;
  }
}

/** Whether a client counts the call as acknowledged: the ledger has it (2xx) or decided it (402). */
export function isAcknowledged(status: number): boolean {
  return (status >= 200 && status < 300) || status === 402;
}

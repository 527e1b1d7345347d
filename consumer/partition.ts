// The state machine of one partition: the accounts it owns, the ids it has
// seen, and the log's clock with its source. Its transitions depend only on
// the log (each record's message and timestamp), so any replay from a snapshot
// yields the same outcomes and the same ledger documents; that is what makes
// redelivery, takeover and stale owners harmless.
//
// State is mutated in place (copying every account per message would not keep
// up with the log); each account's own transition is the pure `decide`.
import type { ClockSource, LedgerDoc, LogMessage, Outcome, TxMessage } from '../common/types.js';
import { decide, EMPTY_ACCOUNT, lapseHolds, ledgerId, splitLedgerId, type Account, type Position } from './ledger.js';
import { sameBody } from '../common/body.js';
import { recall, remember, rememberedAt, type Remembered } from '../common/remembered.js';
import { laySeen } from './snapshot-merge.js';

export interface Step {
  /** Absent for a tick and a clock marker. */
  outcome?: Outcome;
  docs: LedgerDoc[];
  /** Accounts whose state this message changed. */
  touched: string[];
  /** Remembered outcomes of earlier requests that this message changed (cancelled, expired). */
  changed: Outcome[];
}

export interface PartitionSnapshot {
  partition: number;
  /** The next offset to read: the state covers every message before it. */
  offset: number;
  clock: number;
  /** Absent: `receivedAt`, as in every snapshot saved before the partition had another source. */
  clockSource?: 'log-append-time';
  /** Every account with a change, first-change order; in a delta, see `changedAccountsOnly`. */
  accounts: [string, Account][];
  /**
   * Set on a delta whose `accounts` are only those changed since the snapshot
   * it lies over (snapshot format 3); absent, a delta carries every account whole.
   */
  changedAccountsOnly?: true;
  /** Each remembered id (`ledgerId`) with its decision, first-seen order. */
  seen: [string, Remembered][];
}

export class PartitionLedger {
  clock = 0;
  /** What moves `clock`; `receivedAt` until the log's first clock marker (common/types.ts). */
  clockSource: ClockSource = 'receivedAt';
  private accounts = new Map<string, Account>();
  private seen = new Map<string, Remembered>();
  /** Keys of `seen` added or changed since the last `takeSnapshot`: what a delta snapshot carries. */
  private seenChanged = new Set<string>();
  /** Accounts changed since the last `takeSnapshot`, first-change order: the accounts a delta carries. */
  private accountsChanged = new Set<string>();
  private nextLapse = Number.MAX_SAFE_INTEGER;

  constructor(
    readonly partition: number,
    private readonly idWindowMs: number,
  ) {}

  account(accountId: string): Account | undefined {
    return this.accounts.get(accountId);
  }

  accountIds(): IterableIterator<string> {
    return this.accounts.keys();
  }

  /** Every remembered decision, first-seen order. */
  *outcomes(): IterableIterator<Outcome> {
    for (const [key, r] of this.seen) {
      const { accountId, id } = splitLedgerId(key);
      yield recall(accountId, id, r);
    }
  }

  get size(): number {
    return this.accounts.size;
  }

  /** Ids remembered for the window: what the partition's memory grows with. */
  get remembered(): number {
    return this.seen.size;
  }

  /**
   * Applies the record at `offset`: its message, and its `timestamp` (ms),
   * which moves the clock once the clock source is the broker's append time.
   */
  apply(msg: LogMessage, offset: number, timestamp?: number): Step {
    const step = this.applyRecord(msg, offset, timestamp);
    for (const accountId of step.touched) this.accountsChanged.add(accountId);
    return step;
  }

  private applyRecord(msg: LogMessage, offset: number, timestamp: number | undefined): Step {
    this.advanceClock(msg, timestamp);
    const pos: Position = { partition: this.partition, offset, clock: this.clock, clockSource: this.clockSource };
    const step: Step = { docs: [], touched: [], changed: [] };
    if (this.clock >= this.nextLapse) this.lapse(pos, step);
    this.forget();
    if (msg.type === 'tick' || msg.type === 'clock') return step;

    const key = ledgerId(msg.accountId, msg.id);
    const seen = this.seen.get(key);
    if (seen !== undefined) {
      const first = recall(msg.accountId, msg.id, seen);
      step.outcome = sameBody(first, msg) ? { ...first, replayed: true } : this.conflict(msg, pos);
      return step;
    }
    const existing = this.accounts.get(msg.accountId);
    const d = decide(existing ?? EMPTY_ACCOUNT, msg, pos);
    // Accounts come into being with a change (docs/ledger-rules.md): a denied request or a cancel that
    // finds nothing on an unknown account is decided, documented and answered, but creates nothing.
    const stored = existing !== undefined || !isEmpty(d.account);
    if (stored) this.accounts.set(msg.accountId, d.account);
    this.seen.set(key, remember(d.outcome));
    // A new entry goes last, in the changes as in the map (the key may be a forgotten id seen again).
    this.seenChanged.delete(key);
    this.seenChanged.add(key);
    if (msg.type === 'withdraw_request' && d.outcome.status === 'approved') {
      // The new hold is the last; its lapse time is the rules' (consumer/ledger.ts `lapseTime`).
      this.nextLapse = Math.min(this.nextLapse, d.account.holds.at(-1)!.expiresAt);
    }
    if (msg.type === 'cancel' && d.outcome.status === 'applied') this.markRequest(msg.accountId, msg.requestId!, 'cancelled', step);
    step.outcome = d.outcome;
    step.docs.push(d.doc);
    if (stored) step.touched.push(msg.accountId);
    return step;
  }

  /**
   * The clock never goes back. A clock marker moves it to the broker's
   * append time for good, from the record after it. The marker's own
   * timestamp does not count: it is published right after its owner read the
   * topic's timestamp type, so it is the record most likely stamped by a
   * broker that had not applied that setting yet. A record without a
   * timestamp leaves the clock where it is.
   */
  private advanceClock(msg: LogMessage, timestamp: number | undefined): void {
    if (msg.type === 'clock') {
      this.clockSource = 'log-append-time';
      return;
    }
    const time = this.clockSource === 'receivedAt' ? msg.receivedAt : timestamp;
    if (time !== undefined && time > this.clock) this.clock = time;
  }

  private conflict(msg: TxMessage, pos: Position): Outcome {
    const account = this.accounts.get(msg.accountId) ?? EMPTY_ACCOUNT;
    const outcome: Outcome = {
      id: msg.id,
      accountId: msg.accountId,
      type: msg.type,
      status: 'conflict',
      reason: 'id_reused',
      balance: account.balance,
      reserved: account.reserved,
      decidedAt: pos.clock,
    };
    if (msg.amount !== undefined) outcome.amount = msg.amount;
    return outcome;
  }

  /** A request that no longer holds funds answers its repeats with what became of it. */
  private markRequest(accountId: string, requestId: string, status: 'cancelled' | 'expired', step: Step): void {
    const key = ledgerId(accountId, requestId);
    const seen = this.seen.get(key);
    if (seen === undefined) return;
    const first = recall(accountId, requestId, seen);
    if (first.type === 'withdraw_request' && first.status === 'approved') {
      // Setting an existing key keeps its place in first-seen order.
      const outcome: Outcome = { ...first, status };
      this.seen.set(key, remember(outcome));
      this.seenChanged.add(key);
      step.changed.push(outcome);
    }
  }

  private lapse(pos: Position, step: Step): void {
    let next = Number.MAX_SAFE_INTEGER;
    for (const [accountId, account] of this.accounts) {
      if (account.holds.length === 0) continue;
      const r = lapseHolds(accountId, account, pos, step.docs.length);
      if (r.lapsed.length > 0) {
        this.accounts.set(accountId, r.account);
        step.docs.push(...r.docs);
        step.touched.push(accountId);
        for (const h of r.lapsed) this.markRequest(accountId, h.id, 'expired', step);
      }
      for (const h of r.account.holds) next = Math.min(next, h.expiresAt);
    }
    this.nextLapse = next;
  }

  /** Ids are remembered for a window of log time; Map order is first-seen order, so the oldest lead. */
  private forget(): void {
    const horizon = this.clock - this.idWindowMs;
    for (const [key, r] of this.seen) {
      if (rememberedAt(r) >= horizon) break;
      this.seen.delete(key);
    }
  }

  /** The whole state as of `offset`, a value: what happens later does not change it. */
  snapshot(offset: number): PartitionSnapshot {
    return this.snapshotOf(offset, [...this.accounts], [...this.seen]);
  }

  /**
   * A snapshot to save, whole or as a delta: only the accounts changed and
   * the seen entries added or changed since the previous `takeSnapshot`. The
   * seen ids of a busy partition outnumber its accounts by far, and an
   * account with many holds weighs more than many ids, so carrying only what
   * changed is what keeps snapshotting cheap; laid over the snapshot before it (see
   * `mergeSnapshots` in consumer/snapshot-merge.ts) it gives the whole state again.
   */
  takeSnapshot(offset: number, whole: boolean): PartitionSnapshot {
    const seenChanged = this.seenChanged;
    const accountsChanged = this.accountsChanged;
    this.seenChanged = new Set();
    this.accountsChanged = new Set();
    if (whole) return this.snapshot(offset);
    const seen: [string, Remembered][] = [];
    for (const key of seenChanged) {
      const s = this.seen.get(key);
      if (s !== undefined) seen.push([key, s]);
    }
    // Accounts are never removed, so each one changed is still there; one new since the
    // snapshot below comes after the older ones, in the order the live map has it.
    const accounts = [...accountsChanged].map((id): [string, Account] => [id, this.accounts.get(id)!]);
    return { ...this.snapshotOf(offset, accounts, seen), changedAccountsOnly: true };
  }

  private snapshotOf(offset: number, accounts: [string, Account][], seen: [string, Remembered][]): PartitionSnapshot {
    const s: PartitionSnapshot = { partition: this.partition, offset, clock: this.clock, accounts, seen };
    if (this.clockSource !== 'receivedAt') s.clockSource = this.clockSource;
    return s;
  }

  static restore(s: PartitionSnapshot, idWindowMs: number): PartitionLedger {
    const p = new PartitionLedger(s.partition, idWindowMs);
    p.clock = s.clock;
    p.clockSource = s.clockSource ?? 'receivedAt';
    p.accounts = new Map(s.accounts);
    p.seen = new Map();
    laySeen(p.seen, s.seen);
    // A merged chain of deltas may still carry ids that the live state had forgotten.
    p.forget();
    let next = Number.MAX_SAFE_INTEGER;
    for (const [, a] of p.accounts) for (const h of a.holds) next = Math.min(next, h.expiresAt);
    p.nextLapse = next;
    return p;
  }
}

/** What an unknown account is: nothing to store for it. */
function isEmpty(a: Account): boolean {
  return a.balance === 0 && a.reserved === 0 && a.holds.length === 0;
}

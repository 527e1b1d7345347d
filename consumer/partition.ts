// The state machine of one partition: the accounts it owns, the ids it has
// seen, and the log's clock. Its transitions depend only on the log, so any
// replay from a snapshot yields the same outcomes and the same ledger
// documents; that is what makes redelivery, takeover and stale owners harmless.
//
// State is mutated in place (copying every account per message would not keep
// up with the log); each account's own transition is the pure `decide`.
import type { LedgerDoc, LogMessage, Outcome, TxMessage } from '../common/types.js';
import { decide, EMPTY_ACCOUNT, lapseHolds, ledgerId, splitLedgerId, type Account, type Position } from './ledger.js';
import { sameBody } from '../common/body.js';
import { recall, remember, rememberedAt, type Remembered } from '../common/remembered.js';

export interface Step {
  /** Absent for a tick. */
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
  accounts: [string, Account][];
  /** Each remembered id (`ledgerId`) with its decision, first-seen order. */
  seen: [string, Remembered][];
}

export class PartitionLedger {
  clock = 0;
  private accounts = new Map<string, Account>();
  private seen = new Map<string, Remembered>();
  /** Keys of `seen` added or changed since the last `takeSnapshot`: what a delta snapshot carries. */
  private seenChanged = new Set<string>();
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

  apply(msg: LogMessage, offset: number): Step {
    if (msg.receivedAt > this.clock) this.clock = msg.receivedAt;
    const pos: Position = { partition: this.partition, offset, clock: this.clock };
    const step: Step = { docs: [], touched: [], changed: [] };
    if (this.clock >= this.nextLapse) this.lapse(pos, step);
    this.forget();
    if (msg.type === 'tick') return step;

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
      this.nextLapse = Math.min(this.nextLapse, msg.expiresAt ?? Number.MAX_SAFE_INTEGER);
    }
    if (msg.type === 'cancel' && d.outcome.status === 'applied') this.markRequest(msg.accountId, msg.requestId!, 'cancelled', step);
    step.outcome = d.outcome;
    step.docs.push(d.doc);
    if (stored) step.touched.push(msg.accountId);
    return step;
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
    return {
      partition: this.partition,
      offset,
      clock: this.clock,
      accounts: [...this.accounts],
      seen: [...this.seen],
    };
  }

  /**
   * A snapshot to save, whole or as a delta: the accounts whole but only the
   * seen entries added or changed since the previous `takeSnapshot`. The seen
   * ids of a busy partition outnumber its accounts by far, so a delta is what
   * keeps snapshotting cheap; laid over the snapshot before it (see
   * `mergeSnapshots`) it gives the whole state again.
   */
  takeSnapshot(offset: number, whole: boolean): PartitionSnapshot {
    const changed = this.seenChanged;
    this.seenChanged = new Set();
    if (whole) return this.snapshot(offset);
    const seen: [string, Remembered][] = [];
    for (const key of changed) {
      const s = this.seen.get(key);
      if (s !== undefined) seen.push([key, s]);
    }
    return { partition: this.partition, offset, clock: this.clock, accounts: [...this.accounts], seen };
  }

  static restore(s: PartitionSnapshot, idWindowMs: number): PartitionLedger {
    const p = new PartitionLedger(s.partition, idWindowMs);
    p.clock = s.clock;
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

/**
 * A whole snapshot with the deltas laid over it so far. Its seen ids are a
 * map, so a later delta is laid over it in place: a member standing by keeps
 * one per partition and lays each new delta over it as it is saved.
 */
export interface MergedSnapshot {
  partition: number;
  offset: number;
  clock: number;
  accounts: [string, Account][];
  seen: Map<string, Remembered>;
  /** Deltas laid over the whole snapshot it started from. */
  deltas: number;
}

export function startMerge(whole: PartitionSnapshot): MergedSnapshot {
  const { partition, offset, clock, accounts } = whole;
  const m: MergedSnapshot = { partition, offset, clock, accounts, seen: new Map(), deltas: 0 };
  laySeen(m.seen, whole.seen);
  return m;
}

/**
 * Lays a later delta over `m`, in place. Seen entries keep their first-seen
 * order (a changed entry keeps its place), so the log-time order `forget`
 * relies on holds; a delta carries every account whole.
 */
export function layDelta(m: MergedSnapshot, delta: PartitionSnapshot): void {
  laySeen(m.seen, delta.seen);
  m.accounts = delta.accounts;
  m.offset = delta.offset;
  m.clock = delta.clock;
  m.deltas++;
}

export function mergedSnapshot(m: MergedSnapshot): PartitionSnapshot {
  return { partition: m.partition, offset: m.offset, clock: m.clock, accounts: m.accounts, seen: [...m.seen] };
}

/** A whole snapshot and the deltas taken after it, oldest first, as one whole snapshot. */
export function mergeSnapshots(chain: PartitionSnapshot[]): PartitionSnapshot {
  const [whole, ...deltas] = chain;
  if (!whole) throw new Error('mergeSnapshots needs at least one snapshot');
  const m = startMerge(whole);
  for (const d of deltas) layDelta(m, d);
  return mergedSnapshot(m);
}

function laySeen(seen: Map<string, Remembered>, entries: [string, Remembered][]): void {
  for (const [key, r] of entries) {
    // An id forgotten and seen again later is a new entry: it goes to the end, as in the live map.
    const known = seen.get(key);
    if (known !== undefined && rememberedAt(known) !== rememberedAt(r)) seen.delete(key);
    seen.set(key, r);
  }
}

/** What an unknown account is: nothing to store for it. */
function isEmpty(a: Account): boolean {
  return a.balance === 0 && a.reserved === 0 && a.holds.length === 0;
}

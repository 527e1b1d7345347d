// The state machine of one partition: the accounts it owns, the ids it
// remembers, and the log's clock. Its transitions depend only on the log, so
// any replay from a snapshot yields the same outcomes and the same ledger
// documents; that is what makes redelivery, takeover and stale owners harmless.
//
// An id is remembered for the id window, but the partition keeps in memory
// only the decisions whose documents may not be in the ledger yet and a
// filter of the window's ids (consumer/id-filter.ts). The rest is in the
// ledger: before a batch, the ids the filter may hold are looked up there
// (`lookupsFor`, consumer/id-lookup.ts), and the batch is decided with what
// was found, the same answers whatever memory or the database held.
//
// State is mutated in place (copying every account per message would not keep
// up with the log); each account's own transition is the pure `decide`.
import type { LedgerDoc, LogMessage, Outcome, TxMessage } from '../common/types.js';
import { decide, EMPTY_ACCOUNT, lapseHolds, ledgerId, splitLedgerId, type Account, type Position } from './ledger.js';
import { sameBody } from '../common/body.js';
import { recall, remember, rememberedAt, type Remembered } from '../common/remembered.js';
import { IdFilter, restoreFilter } from './id-filter.js';

export interface Step {
  /** Absent for a tick. */
  outcome?: Outcome;
  docs: LedgerDoc[];
  /** Accounts whose state this message changed. */
  touched: string[];
  /** Remembered outcomes of earlier requests that this message changed (cancelled, expired). */
  changed: Outcome[];
}

/** An id's decision (`ledgerId` key) as of a message, read from the ledger: what a batch looked up. */
export interface DurableIds {
  /** Whether `key` was looked up: one that was not is not in the ledger within the window. */
  lookedUp(key: string): boolean;
  /** The first outcome of `key` as a message at `offset` sees it, if decided at `horizon` or later. */
  firstOutcome(key: string, offset: number, horizon: number): Outcome | undefined;
}

export interface PartitionSnapshot {
  partition: number;
  /** The next offset to read: the state covers every message before it. */
  offset: number;
  clock: number;
  accounts: [string, Account][];
  /** The filter of the window's ids (`IdFilter.serialize`, base64); absent from a delta. */
  filter?: string;
  /**
   * Ids (`ledgerId`) added to the filter after `filter`, or for a delta since
   * the snapshot it lies over, in order, each with its decision time.
   */
  ids: [string, number][];
}


export class PartitionLedger {
  clock = 0;
  private accounts = new Map<string, Account>();
  /** Decisions, and changes of them, whose documents may not be in the ledger yet, by `ledgerId`, with the offset of the message whose documents record them. */
  private undurable = new Map<string, { remembered: Remembered; offset: number }>();
  private filter: IdFilter;
  /** Ids added to the filter since the last `takeSnapshot`: what a delta snapshot carries. */
  private added: [string, number][] = [];
  /** True until memory lets go of a decision (or starts from a snapshot): every remembered id is then in memory. */
  private memoryHoldsAll = true;
  private nextLapse = Number.MAX_SAFE_INTEGER;

  constructor(
    readonly partition: number,
    private readonly idWindowMs: number,
  ) {
    this.filter = new IdFilter(idWindowMs);
  }

  account(accountId: string): Account | undefined {
    return this.accounts.get(accountId);
  }

  accountIds(): IterableIterator<string> {
    return this.accounts.keys();
  }

  /** The decisions held in memory (their documents may not be in the ledger yet) and still in the window, as repeats would answer them. */
  *outcomes(): IterableIterator<Outcome> {
    const horizon = this.clock - this.idWindowMs;
    for (const [key, held] of this.undurable) {
      if (rememberedAt(held.remembered) < horizon) continue;
      const { accountId, id } = splitLedgerId(key);
      yield recall(accountId, id, held.remembered);
    }
  }

  get size(): number {
    return this.accounts.size;
  }

  /** Ids in the window (counted by the filter, to within a sixty-fourth of the window). */
  get remembered(): number {
    return this.filter.countSince(this.clock - this.idWindowMs);
  }

  /**
   * Every document of a message before `offset` is in the ledger: memory lets
   * go of their decisions. Called before a batch is looked up, never during
   * one, so that no decision leaves memory between a lookup and its use.
   */
  durableBefore(offset: number): void {
    for (const [key, held] of this.undurable) {
      if (held.offset >= offset) continue;
      this.undurable.delete(key);
      this.memoryHoldsAll = false;
    }
  }

  /**
   * The ids (`ledgerId`) that deciding `messages` next may need from the
   * ledger: each message's id, a cancel's request, and the holds that may
   * lapse by the batch's clock; of those, the ones the filter may hold and
   * memory does not. Whatever the batch adds to the filter is in memory.
   */
  lookupsFor(messages: readonly LogMessage[]): Set<string> {
    const keys = new Set<string>();
    const consider = (accountId: string, id: string) => {
      const key = ledgerId(accountId, id);
      if (!keys.has(key) && !this.undurable.has(key) && this.filter.mayContain(key)) keys.add(key);
    };
    let clock = this.clock;
    for (const msg of messages) {
      clock = Math.max(clock, msg.receivedAt);
      if (msg.type === 'tick') continue;
      consider(msg.accountId, msg.id);
      if (msg.type === 'cancel' && msg.requestId !== undefined) consider(msg.accountId, msg.requestId);
    }
    if (clock >= this.nextLapse) {
      for (const [accountId, account] of this.accounts) for (const hold of account.holds) if (hold.expiresAt <= clock) consider(accountId, hold.id);
    }
    return keys;
  }

  /**
   * Applies one message. `durable`: what the ledger holds of the ids
   * `lookupsFor` named for the batch; without it, memory must still hold every
   * decision (nothing let go of, not restored: a replay such as the audit's).
   */
  apply(msg: LogMessage, offset: number, durable?: DurableIds): Step {
    // A lapse sees the ids the previous message left remembered; the message itself, those of its own clock.
    const lapseHorizon = this.clock - this.idWindowMs;
    if (msg.receivedAt > this.clock) this.clock = msg.receivedAt;
    const pos: Position = { partition: this.partition, offset, clock: this.clock };
    const step: Step = { docs: [], touched: [], changed: [] };
    if (this.clock >= this.nextLapse) this.lapse(pos, step, { durable, horizon: lapseHorizon });
    this.forget();
    if (msg.type === 'tick') return step;

    const key = ledgerId(msg.accountId, msg.id);
    const lookup: Lookup = { durable, horizon: this.clock - this.idWindowMs };
    const first = this.firstOutcome(key, offset, lookup);
    if (first !== undefined) {
      step.outcome = sameBody(first, msg) ? { ...first, replayed: true } : this.conflict(msg, pos);
      return step;
    }
    const existing = this.accounts.get(msg.accountId);
    const d = decide(existing ?? EMPTY_ACCOUNT, msg, pos);
    // Accounts come into being with a change (docs/ledger-rules.md): a denied request or a cancel that
    // finds nothing on an unknown account is decided, documented and answered, but creates nothing.
    const stored = existing !== undefined || !isEmpty(d.account);
    if (stored) this.accounts.set(msg.accountId, d.account);
    this.undurable.set(key, { remembered: remember(d.outcome), offset });
    this.filter.add(key, this.clock);
    this.added.push([key, this.clock]);
    if (msg.type === 'withdraw_request' && d.outcome.status === 'approved') {
      this.nextLapse = Math.min(this.nextLapse, msg.expiresAt ?? Number.MAX_SAFE_INTEGER);
    }
    if (msg.type === 'cancel' && d.outcome.status === 'applied') this.markRequest(msg.accountId, msg.requestId!, 'cancelled', pos, step, lookup);
    step.outcome = d.outcome;
    step.docs.push(d.doc);
    if (stored) step.touched.push(msg.accountId);
    return step;
  }

  /** The first outcome of `key` that a message at `offset` sees: from memory, or from the ledger. */
  private firstOutcome(key: string, offset: number, { durable, horizon }: Lookup): Outcome | undefined {
    const held = this.undurable.get(key);
    if (held !== undefined) {
      if (rememberedAt(held.remembered) < horizon) return undefined;
      const { accountId, id } = splitLedgerId(key);
      return recall(accountId, id, held.remembered);
    }
    if (durable?.lookedUp(key)) return durable.firstOutcome(key, offset, horizon);
    // An id the filter does not hold, or one memory would hold, is not remembered (the filter can answer
    // "maybe" for an id it never held); one it may hold, which memory let go of, must have been looked up.
    if (durable === undefined && !this.memoryHoldsAll && this.filter.mayContain(key)) throw new Error(`${key} may be in the ledger and was not looked up`);
    return undefined;
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
  private markRequest(accountId: string, requestId: string, status: 'cancelled' | 'expired', pos: Position, step: Step, lookup: Lookup): void {
    const key = ledgerId(accountId, requestId);
    const first = this.firstOutcome(key, pos.offset, lookup);
    if (first?.type === 'withdraw_request' && first.status === 'approved') {
      const outcome: Outcome = { ...first, status };
      // Held until the documents of this message (the cancel, the lapse) are in the ledger.
      this.undurable.set(key, { remembered: remember(outcome), offset: pos.offset });
      step.changed.push(outcome);
    }
  }

  private lapse(pos: Position, step: Step, lookup: Lookup): void {
    let next = Number.MAX_SAFE_INTEGER;
    for (const [accountId, account] of this.accounts) {
      if (account.holds.length === 0) continue;
      const r = lapseHolds(accountId, account, pos, step.docs.length);
      if (r.lapsed.length > 0) {
        this.accounts.set(accountId, r.account);
        step.docs.push(...r.docs);
        step.touched.push(accountId);
        for (const h of r.lapsed) this.markRequest(accountId, h.id, 'expired', pos, step, lookup);
      }
      for (const h of r.account.holds) next = Math.min(next, h.expiresAt);
    }
    this.nextLapse = next;
  }

  /** Ids are remembered for a window of log time: the filter drops the slices that left it. */
  private forget(): void {
    this.filter.forgetBefore(this.clock - this.idWindowMs);
  }

  /** The whole state as of `offset`, a value: what happens later does not change it. */
  snapshot(offset: number): PartitionSnapshot {
    return {
      partition: this.partition,
      offset,
      clock: this.clock,
      accounts: [...this.accounts],
      filter: this.filter.serialize().toString('base64'),
      ids: [],
    };
  }

  /**
   * A snapshot to save, whole or as a delta: the accounts whole, and either
   * the filter or only the ids added to it since the previous `takeSnapshot`.
   * A busy partition's filter is far larger than what a snapshot interval adds
   * to it, so a delta is what keeps snapshotting cheap; laid over the
   * snapshot before it (see `mergeSnapshots`) it gives the whole state again.
   */
  takeSnapshot(offset: number, whole: boolean): PartitionSnapshot {
    const ids = this.added;
    this.added = [];
    if (whole) return this.snapshot(offset);
    return { partition: this.partition, offset, clock: this.clock, accounts: [...this.accounts], ids };
  }

  /**
   * The state of a snapshot, with nothing held in memory: the snapshot's
   * decisions are all in the ledger (it is saved only once they are).
   */
  static restore(s: PartitionSnapshot, idWindowMs: number): PartitionLedger {
    const p = new PartitionLedger(s.partition, idWindowMs);
    p.clock = s.clock;
    p.accounts = new Map(s.accounts);
    p.filter = restoreFilter(s.filter, s.ids, idWindowMs);
    p.memoryHoldsAll = false;
    // A merged chain of deltas may still carry ids that the live state had forgotten.
    p.forget();
    let next = Number.MAX_SAFE_INTEGER;
    for (const [, a] of p.accounts) for (const h of a.holds) next = Math.min(next, h.expiresAt);
    p.nextLapse = next;
    return p;
  }
}

/** What a lookup of a remembered id needs besides the id: the batch's durable ids and the window's horizon. */
interface Lookup {
  durable: DurableIds | undefined;
  horizon: number;
}

/** What an unknown account is: nothing to store for it. */
function isEmpty(a: Account): boolean {
  return a.balance === 0 && a.reserved === 0 && a.holds.length === 0;
}

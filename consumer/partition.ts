// The state machine of one partition: the accounts it owns, the ids it
// remembers, and the log's clock with its source. Its transitions depend only
// on the log (each record's message and timestamp), so any replay from a
// snapshot yields the same outcomes and the same ledger documents; that is
// what makes redelivery, takeover and stale owners harmless.
//
// An id is remembered for the id window, but the partition keeps in memory
// only the decisions whose documents may not be in the ledger yet and a
// filter of the window's ids (consumer/remembered-ids.ts); before a batch,
// the ids it may need from the ledger (`lookupsFor`) are looked up there.
//
// State is mutated in place (copying every account per message would not keep
// up with the log); each account's own transition is the pure `decide`
// (consumer/ledger.ts, or a shadow replay's: consumer/partition-rules.ts).
import type { ClockSource, LedgerDoc, LogMessage, Outcome, TxMessage } from '../common/types.js';
import { EMPTY_ACCOUNT, lapseHolds, ledgerId, type Account, type Position } from './ledger.js';
import { sameBody } from '../common/body.js';
import { remember } from '../common/remembered.js';
import { openedHold, statusGiven, type HeldStatus } from '../common/ledger-outcome.js';
import { isTransaction } from '../common/message.js';
import { clockAfter, sourceAfter } from './log-clock.js';
import { RememberedIds, type DurableIds, type Lookup } from './remembered-ids.js';
import { conflictOutcome, isEmpty, LEDGER_RULES, type DecisionInputs, type LedgerRules } from './partition-rules.js';
import { nextLeg } from './transfer-legs.js';
import { recordReversal, reversalOriginal } from './partition-reversals.js';

export interface Step {
  /** Absent for a tick and a clock marker. */
  outcome?: Outcome;
  docs: LedgerDoc[];
  /** Accounts whose state this message changed. */
  touched: string[];
  /** Remembered outcomes of earlier decisions that this message changed (a request cancelled or expired, a pending transfer posted or voided, an original's total reversed). */
  changed: Outcome[];
  /** Messages this decision minted for the log (a transfer's next leg, consumer/transfer-legs.ts): none for a repeat. */
  minted: TxMessage[];
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
   * it lies over (snapshot formats 3 and 5); absent, a delta carries every account whole.
   */
  changedAccountsOnly?: true;
  /** The filter of the window's ids (`IdFilter.serialize`, base64); absent from a delta. */
  filter?: string;
  /**
   * Ids (`ledgerId`) added to the filter after `filter`, or for a delta since
   * the snapshot it lies over, in order, each with its decision time.
   */
  ids: [string, number][];
}

/** A message with the timestamp (ms) of the record that carried it. */
export interface LoggedMessage {
  msg: LogMessage;
  timestamp: number | undefined;
}

export class PartitionLedger {
  clock = 0;
  /** What moves `clock`; `receivedAt` until the log's first clock marker (common/types.ts). */
  clockSource: ClockSource = 'receivedAt';
  private accounts = new Map<string, Account>();
  private rememberedIds: RememberedIds;
  /** Accounts changed since the last `takeSnapshot`, first-change order: the accounts a delta carries. */
  private accountsChanged = new Set<string>();
  private nextLapse = Number.MAX_SAFE_INTEGER;
  /** Told what each message is decided against; set only by a replay that explains a decision (consumer/explanation.ts). */
  observeDecisions: ((inputs: DecisionInputs) => void) | undefined;

  constructor(
    readonly partition: number,
    private readonly idWindowMs: number,
    private readonly rules: LedgerRules = LEDGER_RULES,
  ) {
    this.rememberedIds = RememberedIds.empty(idWindowMs);
  }

  account(accountId: string): Account | undefined {
    return this.accounts.get(accountId);
  }

  accountIds(): IterableIterator<string> {
    return this.accounts.keys();
  }

  /** The decisions held in memory (their documents may not be in the ledger yet) and still in the window, as repeats would answer them. */
  outcomes(): IterableIterator<Outcome> {
    return this.rememberedIds.outcomes(this.clock - this.idWindowMs);
  }

  get size(): number {
    return this.accounts.size;
  }

  /** Ids in the window (counted by the filter, to within a sixty-fourth of the window). */
  get remembered(): number {
    return this.rememberedIds.countSince(this.clock - this.idWindowMs);
  }

  /** Bytes of the bits of its filter of the window's ids. */
  get filterBytes(): number {
    return this.rememberedIds.filterBytes;
  }

  /**
   * Every document of a message before `offset` is in the ledger: memory lets
   * go of their decisions. Called before a batch is looked up, never during
   * one, so that no decision leaves memory between a lookup and its use.
   */
  durableBefore(offset: number): void {
    this.rememberedIds.durableBefore(offset);
  }

  /**
   * The ids (`ledgerId`) that deciding `records` next may need from the
   * ledger: each message's id, the request a cancel, post or void names, the original a
   * reversal names, and the holds that may
   * lapse by the clock the batch reaches (moved as `apply` moves it, clock
   * markers included); of those, the ones the filter may hold and memory does
   * not. Whatever the batch adds to the filter is in memory.
   */
  lookupsFor(records: readonly LoggedMessage[]): Set<string> {
    const keys = new Set<string>();
    const consider = (accountId: string, id: string) => {
      const key = ledgerId(accountId, id);
      if (!keys.has(key) && this.rememberedIds.mayBeOnlyInLedger(key)) keys.add(key);
    };
    let clock = this.clock;
    let source = this.clockSource;
    for (const { msg, timestamp } of records) {
      source = sourceAfter(source, msg);
      clock = clockAfter(clock, source, msg, timestamp);
      if (!isTransaction(msg)) continue;
      consider(msg.accountId, msg.id);
      // A cancel, a post or a void may change what its request's repeats answer, and a reversal reads
      // its original and changes what that answers (a withdrawal's request never does).
      if (msg.requestId !== undefined && msg.type !== 'withdraw') consider(msg.accountId, msg.requestId);
    }
    if (clock >= this.nextLapse) {
      for (const [accountId, account] of this.accounts) for (const hold of account.holds) if (hold.expiresAt <= clock) consider(accountId, hold.id);
    }
    return keys;
  }

  /**
   * Applies the record at `offset`: its message, and its `timestamp` (ms),
   * which moves the clock once the clock source is the broker's append time.
   * `durable`: what the ledger holds of the ids `lookupsFor` named for the
   * batch; without it, memory must still hold every decision (nothing let go
   * of, not restored: a replay such as the audit's).
   */
  apply(msg: LogMessage, offset: number, timestamp?: number, durable?: DurableIds): Step {
    const step = this.applyRecord(msg, offset, timestamp, durable);
    for (const accountId of step.touched) this.accountsChanged.add(accountId);
    return step;
  }

  private applyRecord(msg: LogMessage, offset: number, timestamp: number | undefined, durable: DurableIds | undefined): Step {
    // A lapse sees the ids the previous message left remembered; the message itself, those of its own clock.
    const lapseHorizon = this.clock - this.idWindowMs;
    this.clockSource = sourceAfter(this.clockSource, msg);
    this.clock = clockAfter(this.clock, this.clockSource, msg, timestamp);
    const pos: Position = { partition: this.partition, offset, clock: this.clock, clockSource: this.clockSource, idWindowMs: this.idWindowMs };
    const step: Step = { docs: [], touched: [], changed: [], minted: [] };
    if (this.clock >= this.nextLapse) this.lapse(pos, step, { durable, horizon: lapseHorizon });
    this.forget();
    if (msg.type === 'tick' || msg.type === 'clock') return step;

    const key = ledgerId(msg.accountId, msg.id);
    const lookup: Lookup = { durable, horizon: this.clock - this.idWindowMs };
    const first = this.rememberedIds.firstOutcome(key, offset, lookup);
    if (first !== undefined) {
      const account = this.accounts.get(msg.accountId) ?? EMPTY_ACCOUNT;
      const repeat = sameBody(first, msg);
      step.outcome = repeat ? { ...first, replayed: true } : conflictOutcome(account, msg, pos);
      this.observeDecisions?.({ account, position: pos, rule: repeat ? 'repeat' : 'id-reused', remembered: first });
      return step;
    }
    const existing = this.accounts.get(msg.accountId);
    const original = reversalOriginal(this.rememberedIds, msg, offset, lookup);
    const d = this.rules.decide(existing ?? EMPTY_ACCOUNT, msg, pos, original);
    this.observeDecisions?.({ account: existing ?? EMPTY_ACCOUNT, position: pos, rule: d.rule, ...(original && { original }) });
    // Accounts come into being with a change (docs/ledger-rules.md): a denied request or a cancel that
    // finds nothing on an unknown account is decided, documented and answered, but creates nothing;
    // a settings change away from the defaults creates it.
    const stored = existing !== undefined || !isEmpty(d.account);
    if (stored) this.accounts.set(msg.accountId, d.account);
    this.rememberedIds.decided(key, remember(d.outcome), offset, this.clock);
    if (openedHold(d.outcome)) {
      // The new hold is the last; its lapse time is the rules' (consumer/ledger.ts `lapseTime`).
      this.nextLapse = Math.min(this.nextLapse, d.account.holds.at(-1)!.expiresAt);
    }
    const released = statusGiven({ type: msg.type, status: d.outcome.status });
    if (released !== undefined) this.markRequest(msg.accountId, msg.requestId!, released, pos, step, lookup);
    const reversed = recordReversal(this.rememberedIds, original, d.outcome, offset);
    if (reversed !== undefined) step.changed.push(reversed);
    step.outcome = d.outcome;
    step.docs.push(d.doc);
    const leg = nextLeg(msg, d.outcome, pos, original);
    if (leg !== undefined) step.minted.push(leg);
    if (stored) step.touched.push(msg.accountId);
    return step;
  }

  /** A request (or pending transfer) that no longer holds funds answers its repeats with what became of it. */
  private markRequest(accountId: string, requestId: string, status: HeldStatus, pos: Position, step: Step, lookup: Lookup): void {
    const key = ledgerId(accountId, requestId);
    const first = this.rememberedIds.firstOutcome(key, pos.offset, lookup);
    if (first !== undefined && openedHold(first)) {
      const outcome: Outcome = { ...first, status };
      // Held until the documents of this message (the cancel, the lapse) are in the ledger.
      this.rememberedIds.changed(key, remember(outcome), pos.offset);
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

  /** Ids are remembered for a window of log time. */
  private forget(): void {
    this.rememberedIds.forgetBefore(this.clock - this.idWindowMs);
  }

  /** The whole state as of `offset`, a value: what happens later does not change it. */
  snapshot(offset: number): PartitionSnapshot {
    return this.snapshotOf(offset, [...this.accounts], { filter: this.rememberedIds.serializedFilter(), ids: [] });
  }

  /**
   * A snapshot to save, whole or as a delta: only the accounts changed since
   * the previous `takeSnapshot`, and either the filter or only the ids added
   * to it since. A busy partition's filter is far larger than what a snapshot
   * interval adds to it, and it has far more accounts than an interval
   * changes, so carrying only what changed is what keeps snapshotting cheap;
   * laid over the snapshot before it (see `mergeSnapshots` in
   * consumer/snapshot-merge.ts) it gives the whole state again.
   */
  takeSnapshot(offset: number, whole: boolean): PartitionSnapshot {
    const ids = this.rememberedIds.takeAdded();
    const accountsChanged = this.accountsChanged;
    this.accountsChanged = new Set();
    if (whole) return this.snapshot(offset);
    // Accounts are never removed, so each one changed is still there; one new since the
    // snapshot below comes after the older ones, in the order the live map has it.
    const accounts = [...accountsChanged].map((id): [string, Account] => [id, this.accounts.get(id)!]);
    return { ...this.snapshotOf(offset, accounts, { ids }), changedAccountsOnly: true };
  }

  private snapshotOf(offset: number, accounts: [string, Account][], remembered: Pick<PartitionSnapshot, 'filter' | 'ids'>): PartitionSnapshot {
    const s: PartitionSnapshot = { partition: this.partition, offset, clock: this.clock, accounts, ...remembered };
    if (this.clockSource !== 'receivedAt') s.clockSource = this.clockSource;
    return s;
  }

  /**
   * The state of a snapshot, with nothing held in memory: the snapshot's
   * decisions are all in the ledger (it is saved only once they are).
   */
  static restore(s: PartitionSnapshot, idWindowMs: number, rules: LedgerRules = LEDGER_RULES): PartitionLedger {
    const p = new PartitionLedger(s.partition, idWindowMs, rules);
    p.clock = s.clock;
    p.clockSource = s.clockSource ?? 'receivedAt';
    p.accounts = new Map(s.accounts);
    p.rememberedIds = RememberedIds.restore(s.filter, s.ids, idWindowMs);
    // A merged chain of deltas may still carry ids that the live state had forgotten.
    p.forget();
    let next = Number.MAX_SAFE_INTEGER;
    for (const [, a] of p.accounts) for (const h of a.holds) next = Math.min(next, h.expiresAt);
    p.nextLapse = next;
    return p;
  }
}

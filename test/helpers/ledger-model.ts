// A small reference model of one partition, at the level of docs/ledger-rules.md,
// for the replay property test. It follows every account from the ledger
// documents alone (what an audit sees), keeps the client-facing idempotency
// contract (first outcome, replayed; conflict on another body), and checks
// each step of the PartitionLedger against both. It keeps its own log clock
// (by `receivedAt` until a clock marker, by the records' timestamps after) and
// its own id window. Document _ids are log positions, unique in the whole log
// (an id decided anew after the window gets a new document); an account exists
// once a document changed it (a denied request or a cancel that finds nothing
// on an unknown account creates none; a setting away from its default does).
// Transfers are followed by test/helpers/ledger-model-legs.ts, the rules of each
// type by test/helpers/ledger-model-rules.ts. Reversals (docs/transfers.md)
// read the original as remembered here, with its total reversed.
import { deepStrictEqual } from 'node:assert/strict';
import type { ClockSource, LedgerDoc, LogMessage, Outcome, TxMessage, TxStatus } from '../../common/types.js';
import type { PartitionLedger, Step } from '../../consumer/partition.js';
import { ModelLegs } from './ledger-model-legs.js';
import { applyRule, reserved, type ModelAccount, type RuleContext } from './ledger-model-rules.js';

interface Remembered {
  body: ModelBody;
  /** Log clock when first decided. */
  at: number;
  outcome: Outcome;
  /** What became of it: an approved request later cancelled or expired, a pending transfer posted, voided or expired. */
  status: TxStatus;
  /** Of a deposit, withdrawal or credit: the total its applied reversals took back. */
  reversed: number;
}

/**
 * What "the same body" compares (docs/ledger-rules.md, docs/transfers.md): the time to live only when
 * both calls carry one; metadata whatever the order of its keys.
 */
type ModelBody = { rest: string; ttl: number | undefined };
const body = (m: TxMessage): ModelBody => {
  const metadata = m.metadata === undefined ? null : Object.entries(m.metadata).sort(([x], [y]) => (x < y ? -1 : 1));
  // A post's counterparty is its hold's, recorded by the owner: not part of the body.
  const counterparty = m.type === 'transfer_post' ? undefined : m.counterparty;
  const extras = [counterparty, m.transferId, m.reference, metadata, m.overdraftLimit, m.accountStatus, m.pending].map((v) => v ?? null);
  return { rest: JSON.stringify([m.type, m.amount ?? null, m.requestId ?? null, ...extras]), ttl: m.expiresInSeconds };
};
/** The members a decision copies from its message (docs/transfers.md). */
const COPIED = ['counterparty', 'transferId', 'reference', 'metadata', 'overdraftLimit', 'accountStatus', 'pending'] as const;
const isDefault = (a: ModelAccount) => a.balance === 0 && a.holds.length === 0 && a.overdraftLimit === 0 && a.status === 'open';
const bothCarry = (a: ModelBody, b: ModelBody) => a.ttl !== undefined && b.ttl !== undefined;
const sameBody = (a: ModelBody, b: ModelBody) => a.rest === b.rest && (!bothCarry(a, b) || a.ttl === b.ttl);

function fail(what: string, offset: number, detail?: unknown): never {
  throw new Error(`offset ${offset}: ${what}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}`);
}

export class LedgerModel implements RuleContext {
  readonly accounts = new Map<string, ModelAccount>();
  readonly docIds = new Set<string>();
  /** Accounts some document changed: the only ones the ledger may hold. */
  readonly existing = new Set<string>();
  /** Totals as BigInt: several balances near 2^53 add up past what a number holds exactly. */
  deposited = 0n;
  withdrawn = 0n;
  /** Applied reversals of deposits (money out) and of withdrawals (money back in). */
  reversedDeposits = 0n;
  reversedWithdrawals = 0n;
  /** Repeats answered with a total reversed. */
  repeatsReversed = 0;
  /** Transfers, their legs and the money in flight. */
  readonly legs = new ModelLegs();
  clock = 0;
  clockSource: ClockSource = 'receivedAt';
  /** Ids decided anew after the window forgot them. */
  renewedIds = 0;
  /** Decisions on an unknown account that left it empty, so created nothing. */
  nothingCreated = 0;
  /** Repeats refused for their time to live alone. */
  ttlConflicts = 0;
  /** Repeats with another time to live, or none, answered as replays because one side carried none. */
  ttlNotCompared = 0;
  private remembered = new Map<string, Remembered>();
  /** Keys that fell out of the window. */
  private forgotten = new Set<string>();

  constructor(
    readonly partition: number,
    readonly windowMs = Infinity,
  ) {}

  account(id: string): ModelAccount {
    let a = this.accounts.get(id);
    if (!a) this.accounts.set(id, (a = { balance: 0, holds: [], overdraftLimit: 0, status: 'open' }));
    return a;
  }

  /** Checks what the ledger did with the record at `offset`, then compares the ledger's state with the model's. */
  check(ledger: PartitionLedger, msg: LogMessage, offset: number, step: Step, timestamp?: number): void {
    // The log clock: the latest receivedAt so far, never back; from after a clock marker, the latest timestamp.
    if (msg.type === 'clock') this.clockSource = 'log-append-time';
    const time = msg.type === 'clock' ? undefined : this.clockSource === 'receivedAt' ? msg.receivedAt : timestamp;
    const clock = (this.clock = Math.max(this.clock, time ?? this.clock));
    const clocks = { ledger: [ledger.clock, ledger.clockSource], model: [clock, this.clockSource] };
    if (clocks.ledger.join() !== clocks.model.join()) fail('log clock', offset, clocks);
    const expires = step.docs.filter((d) => d.type === 'expire');
    const decisions = step.docs.slice(expires.length);
    if (decisions.some((d) => d.type === 'expire')) fail('lapses must come before the decision', offset, step.docs);
    if (decisions.length > 1) fail('more than one decision document', offset, decisions);
    const changed: [string, TxStatus][] = [];
    let minted: TxMessage[] = [];

    // Lapses: each an open hold, due by the log clock, released whole.
    for (const [n, d] of expires.entries()) {
      const a = this.account(d.accountId);
      // (Two holds share an id only when a request id came back after the window: the due one lapses.)
      const h = a.holds.find((x) => x.id === d.requestId && x.expiresAt <= clock);
      if (!h) fail('expire of a hold not held, or not yet due', offset, { d, holds: a.holds, clock });
      a.holds = a.holds.filter((x) => x !== h);
      deepStrictEqual(d, {
        _id: `${this.partition}:${offset}:${n}:${h.id}~expired`,
        id: `${h.id}~expired`,
        accountId: d.accountId,
        type: 'expire',
        amount: h.amount,
        requestId: h.id,
        status: 'applied',
        balanceAfter: a.balance,
        reservedAfter: reserved(a),
        partition: this.partition,
        offset,
        receivedAt: clock,
        decidedAt: clock,
      });
      if (this.mark(d.accountId, h.id, 'expired')) changed.push([h.id, 'expired']);
    }
    for (const [id, a] of this.accounts) {
      for (const h of a.holds) if (h.expiresAt <= clock) fail('a due hold did not lapse', offset, { id, h, clock });
    }
    // Ids are remembered while first decided no earlier than clock - window.
    for (const [key, r] of this.remembered) {
      if (r.at < clock - this.windowMs) {
        this.remembered.delete(key);
        this.forgotten.add(key);
      }
    }
    for (const d of step.docs) {
      if (this.docIds.has(d._id)) fail('duplicate document _id', offset, d._id);
      this.docIds.add(d._id);
      if (d.partition !== this.partition || d.offset !== offset) fail('document position', offset, d);
      if (d.overdraft !== undefined && (d.overdraft !== true || (d.type !== 'withdraw' && d.type !== 'reversal'))) fail('overdraft flag on', offset, d);
    }

    if (msg.type === 'tick' || msg.type === 'clock') {
      if (step.outcome !== undefined || decisions.length > 0) fail(`a ${msg.type} decides nothing`, offset, step);
    } else {
      const key = `${msg.accountId}/${msg.id}`;
      const seen = this.remembered.get(key);
      const out = step.outcome;
      if (!out) fail('no outcome', offset);
      if (seen) {
        if (decisions.length > 0) fail('a repeat wrote a document', offset, decisions);
        const a = this.account(msg.accountId);
        const again = body(msg);
        if (seen.body.rest === again.rest && seen.body.ttl !== again.ttl) {
          if (bothCarry(seen.body, again)) this.ttlConflicts++;
          else this.ttlNotCompared++;
        }
        if (sameBody(seen.body, again)) {
          const reversed = seen.reversed > 0 ? { reversed: seen.reversed } : {};
          if (seen.reversed > 0) this.repeatsReversed++;
          deepStrictEqual(out, { ...seen.outcome, status: seen.status, ...reversed, replayed: true }, `offset ${offset}: repeat`);
        } else {
          deepStrictEqual(
            [out.status, out.reason, out.balance, out.reserved, out.decidedAt],
            ['conflict', 'id_reused', a.balance, reserved(a), clock],
            `offset ${offset}: conflict`,
          );
        }
      } else {
        const d = decisions[0];
        if (!d) fail('a new id without a document', offset, out);
        if (d._id !== `${this.partition}:${offset}` || d.id !== msg.id || d.accountId !== msg.accountId || d.type !== msg.type) fail('document identity', offset, d);
        // A reversal without an amount records the amount it took: its rule checks that.
        const amountRecorded = msg.type === 'reversal' && msg.amount === undefined ? d.amount : (msg.amount ?? 0);
        if (d.receivedAt !== msg.receivedAt || d.amount !== amountRecorded || d.requestId !== msg.requestId) fail('document body', offset, d);
        if (d.decidedAt !== clock || d.expiresInSeconds !== msg.expiresInSeconds) fail('decidedAt, expiresInSeconds (what a lookup reads back)', offset, d);
        // The client's claimed time is copied as it came, and nothing else reads it.
        if (d.clientTimestamp !== msg.clientTimestamp || ('clientTimestamp' in d && msg.clientTimestamp === undefined)) fail('clientTimestamp', offset, d);
        if (out.replayed !== undefined) fail('a first answer marked replayed', offset, out);
        if (out.expiresInSeconds !== msg.expiresInSeconds) fail("the outcome keeps the message's time to live", offset, out);
        // A post records its hold's counterparty (held to it by the rule), not a message's.
        for (const field of COPIED.filter((f) => !(msg.type === 'transfer_post' && f === 'counterparty'))) {
          deepStrictEqual([d[field], out[field]], [msg[field], msg[field]], `offset ${offset}: ${field} copied from the message`);
          if (msg[field] === undefined && (field in d || field in out)) fail(`a ${field} field the message did not carry`, offset, { d, out });
        }
        deepStrictEqual(
          [out.status, out.reason, out.overdraft, out.balance, out.reserved, out.decidedAt],
          [d.status, d.reason, d.overdraft, d.balanceAfter, d.reservedAfter, clock],
          `offset ${offset}: outcome and document agree`,
        );
        minted = applyRule(this, msg, d, offset, changed);
        if (this.forgotten.delete(key)) this.renewedIds++;
        this.remembered.set(key, { body: body(msg), at: clock, outcome: out, status: out.status, reversed: 0 });
      }
    }

    deepStrictEqual(step.changed.map((o) => [o.id, o.status]), changed, `offset ${offset}: remembered outcomes changed`);
    deepStrictEqual(step.minted, minted, `offset ${offset}: the legs minted`);
    // An account comes into being when a document leaves it other than empty, and stays.
    const docAccounts = new Set<string>();
    for (const d of step.docs) {
      const a = this.account(d.accountId);
      if (!isDefault(a)) this.existing.add(d.accountId);
      if (this.existing.has(d.accountId)) docAccounts.add(d.accountId);
      else this.nothingCreated++;
    }
    deepStrictEqual(new Set(step.touched), docAccounts, `offset ${offset}: touched accounts`);
    this.compare(ledger, offset);
  }

  /** The decision of `id` on the account while remembered, with what became of it. */
  original(accountId: string, id: string): Pick<Remembered, 'outcome' | 'reversed'> | undefined {
    return this.remembered.get(`${accountId}/${id}`);
  }

  mark(accountId: string, requestId: string, status: TxStatus): boolean {
    const r = this.remembered.get(`${accountId}/${requestId}`);
    if (!r || (r.outcome.type !== 'withdraw_request' && r.outcome.type !== 'transfer') || r.status !== 'approved') return false;
    r.status = status;
    return true;
  }

  /** The ledger's accounts against the model's, and the invariants of docs/ledger-rules.md. */
  private compare(ledger: PartitionLedger, offset: number): void {
    let total = 0n;
    for (const id of ledger.accountIds()) {
      const acc = ledger.account(id)!;
      const m = this.accounts.get(id);
      if (!m) fail('an account the documents never mention', offset, id);
      total += BigInt(acc.balance);
      if (acc.reserved < 0) fail('reserved < 0', offset, { id, acc });
      if (acc.reserved !== acc.holds.reduce((s, h) => s + h.amount, 0)) fail('reserved != sum of holds', offset, { id, acc });
      if (acc.balance !== m.balance) fail('balance != deposits - withdrawals in the documents', offset, { id, acc, m });
      deepStrictEqual(
        acc.holds.map((h) => ({ id: h.id, amount: h.amount, expiresAt: h.expiresAt, ...(h.counterparty === undefined ? {} : { counterparty: h.counterparty }) })),
        m.holds,
        `offset ${offset}: holds of ${id}`,
      );
      deepStrictEqual([acc.overdraftLimit ?? 0, acc.status ?? 'open'], [m.overdraftLimit, m.status], `offset ${offset}: settings of ${id}`);
      if (acc.overdraftLimit === 0 || acc.status === 'open') fail('a default setting kept in the account', offset, { id, acc });
      // Below zero only by a withdrawal, a transfer's debit, a post or a reversal; one past the limit is flagged (applyRule).
      const debits: LedgerDoc['type'][] = ['withdraw', 'transfer', 'transfer_post', 'reversal'];
      if (acc.balance < 0 && !debits.includes(m.wentNegative?.type ?? 'deposit')) fail('below zero other than by a debit', offset, { id, acc, m });
    }
    for (const [id, m] of this.accounts) {
      const held = ledger.account(id) !== undefined;
      if (!held && this.existing.has(id)) fail('an account went missing', offset, { id, m });
      if (held && !this.existing.has(id)) fail('an account no change created', offset, id);
    }
    const net = this.deposited - this.withdrawn - this.reversedDeposits + this.reversedWithdrawals;
    if (total + this.legs.inFlight !== net) fail('sum of balances + money in flight != deposits - withdrawals - reversed deposits + reversed withdrawals', offset);
  }
}

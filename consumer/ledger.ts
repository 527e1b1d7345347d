// The ledger rules (docs/ledger-rules.md, docs/transfers.md), for one account: a pure, deterministic
// function of the account's state and one message. No clock, no I/O, no
// mutation: the same inputs always give the same account, outcome and document.
// A transfer's legs are consumer/ledger-transfers.ts, the account's settings
// consumer/ledger-settings.ts, reversals consumer/ledger-reversals.ts, two-phase transfers
// consumer/ledger-pending.ts, and what every decision is built of
// consumer/ledger-decision.ts.
import type { AccountStatus, ClockSource, LedgerDoc, Outcome, TxMessage, TxReason } from '../common/types.js';
import { amountOf, MAX_BALANCE, settle } from './ledger-decision.js';
import { availableFunds, changeSettings, debitRefusal, overdraftLimitOf } from './ledger-settings.js';
import { credit, transferDebit, transferReturn } from './ledger-transfers.js';
import { reverse } from './ledger-reversals.js';
import { holdTransfer, postTransfer, voidTransfer } from './ledger-pending.js';
import { debitRefusalRule, type RuleName } from './rule-names.js';

export { decisionDocId, MAX_BALANCE } from './ledger-decision.js';

/** A withdrawal request's (or a pending transfer's) hold on funds, until settled, cancelled or lapsed. */
export interface Hold {
  readonly id: string;
  /** What is still held (a withdrawal without `requestId` may consume part of a request's). */
  readonly amount: number;
  readonly expiresAt: number;
  /**
   * Of a pending transfer's hold: the account its post credits. Absent from a
   * request's; only a post, a void or its lapse ends such a hold (docs/transfers.md).
   */
  readonly counterparty?: string;
}

export interface Account {
  readonly balance: number;
  readonly reserved: number;
  readonly updatedAt: number;
  /** Open holds, oldest first; their amounts always add up to `reserved`. */
  readonly holds: readonly Hold[];
  /** How far below zero available funds may go for an approval; absent while 0 (docs/transfers.md). */
  readonly overdraftLimit?: number;
  /** Absent while `open`. */
  readonly status?: AccountStatus;
}

export const EMPTY_ACCOUNT: Account = Object.freeze({ balance: 0, reserved: 0, updatedAt: 0, holds: Object.freeze([]) });

/** Where a message sits in the log, and the log's clock when it is decided. */
export interface Position {
  partition: number;
  offset: number;
  clock: number;
  /** What moves `clock` (common/types.ts); absent: `receivedAt`. */
  clockSource?: ClockSource;
  /** How long the partition remembers an id (ID_WINDOW_SECONDS): no pending transfer's hold outlives it. Absent: no bound. */
  idWindowMs?: number;
}

export interface Decision {
  account: Account;
  outcome: Outcome;
  doc: LedgerDoc;
  /** The row of the outcome tables that decided (consumer/rule-names.ts): named, never read by a rule. */
  rule: RuleName;
}

/** The identity of a transaction: ids are per account. The key of the ids a partition has seen. */
export function ledgerId(accountId: string, id: string): string {
  // Joined, not concatenated: a concatenation is a tree holding the message's own strings, and a
  // partition keeps millions of these keys (common/remembered.ts).
  return [accountId, id].join('/');
}

/** The account and id of a `ledgerId`; ids never contain `/`, account ids neither. */
export function splitLedgerId(key: string): { accountId: string; id: string } {
  const slash = key.lastIndexOf('/');
  return { accountId: key.slice(0, slash), id: key.slice(slash + 1) };
}

/**
 * The `_id` of the `n`th hold (from 0) to lapse while the message at `pos` is applied. Several
 * holds may lapse at one offset, two of them even with one id (on two accounts, or a request id
 * re-sent after the window while its first hold was still open): the ordinal keeps them apart.
 */
export function expiryDocId(pos: Position, n: number, holdId: string): string {
  return `${pos.partition}:${pos.offset}:${n}:${holdId}~expired`;
}

/**
 * Decides one new (never seen) transaction against its account. `original`:
 * for a reversal, the decision it names as the partition remembers it.
 */
export function decide(account: Account, msg: TxMessage, pos: Position, original?: Outcome): Decision {
  switch (msg.type) {
    case 'deposit':
    case 'transfer_credit':
      return credit(account, msg, pos);
    case 'withdraw_request':
      return requestHold(account, msg, pos);
    case 'withdraw':
      return withdraw(account, msg, pos);
    case 'cancel':
      return cancel(account, msg, pos);
    case 'transfer':
      return msg.pending ? holdTransfer(account, msg, pos) : transferDebit(account, msg, pos);
    case 'transfer_return':
      return transferReturn(account, msg, pos);
    case 'account_settings':
      return changeSettings(account, msg, pos);
    case 'reversal':
      return reverse(account, msg, pos, original);
    case 'transfer_post':
      return postTransfer(account, msg, pos);
    case 'transfer_void':
      return voidTransfer(account, msg, pos);
  }
}

function requestHold(account: Account, msg: TxMessage, pos: Position): Decision {
  const amount = amountOf(msg);
  // Before the funds, the status and then the limit refuse any new hold, whatever its amount.
  const refusal = debitRefusal(account);
  if (refusal !== undefined) return settle(debitRefusalRule(refusal), msg, pos, account, 'denied', refusal);
  if (msg.holdLimit !== undefined && account.holds.length >= msg.holdLimit) {
    return settle('request-hold-limit', msg, pos, account, 'denied', 'hold_limit');
  }
  if (availableFunds(account) < amount) {
    return settle('request-insufficient-funds', msg, pos, account, 'denied', 'insufficient_funds');
  }
  const hold: Hold = { id: msg.id, amount, expiresAt: lapseTime(msg, pos) };
  const next = { ...account, reserved: account.reserved + amount, holds: [...account.holds, hold] };
  return settle('request-approved', msg, pos, next, 'approved');
}

/**
 * When a new hold lapses. By the broker's clock, its time to live counts from
 * its decision: the api's `expiresAt` is the api replica's clock, which the
 * partition no longer trusts. By `receivedAt`, and for a message without a
 * time to live, it is the message's `expiresAt` (never, without one).
 */
export function lapseTime(msg: TxMessage, pos: Position): number {
  if (pos.clockSource === 'log-append-time' && msg.expiresInSeconds !== undefined) {
    return Math.min(Number.MAX_SAFE_INTEGER, pos.clock + 1000 * msg.expiresInSeconds);
  }
  return msg.expiresAt ?? Number.MAX_SAFE_INTEGER;
}

function withdraw(account: Account, msg: TxMessage, pos: Position): Decision {
  const amount = amountOf(msg);
  // A frozen or closed account refuses it; an open one posts it even past the funds (an
  // overdraft), but not past what is counted exactly.
  const refusal = debitRefusal(account);
  if (refusal !== undefined) return settle(debitRefusalRule(refusal), msg, pos, account, 'denied', refusal);
  if (account.balance < amount - MAX_BALANCE) return settle('withdrawal-out-of-range', msg, pos, account, 'denied', 'balance_out_of_range');
  let holds: readonly Hold[];
  let reason: TxReason | undefined;
  let rule: RuleName = 'withdrawal-consumes-holds';
  if (msg.requestId !== undefined) {
    // Settles exactly the named hold, whatever its amount, as a card capture does.
    const named = account.holds.find((h) => h.id === msg.requestId && isRequestHold(h));
    holds = named ? account.holds.filter((h) => h !== named) : account.holds;
    reason = named ? undefined : 'request_not_held';
    rule = named ? 'withdrawal-settles-hold' : 'withdrawal-request-not-held';
  } else {
    holds = consumeOldest(account.holds, amount);
  }
  const reserved = sum(holds);
  const balance = account.balance - amount;
  const next = { ...account, balance, reserved, holds };
  return settle(rule, msg, pos, next, 'applied', reason, balance < -overdraftLimitOf(account));
}

function cancel(account: Account, msg: TxMessage, pos: Position): Decision {
  const held = account.holds.find((h) => h.id === msg.requestId && isRequestHold(h));
  if (!held) return settle('cancel-not-held', msg, pos, account, 'not_found', 'request_not_held');
  const holds = account.holds.filter((h) => h !== held);
  return settle('cancel-releases-hold', msg, pos, { ...account, reserved: account.reserved - held.amount, holds }, 'applied');
}

/**
 * Releases holds whose time has come by the log's clock; one document per lapsed hold.
 * `already`: how many holds (of other accounts) lapsed before these at the same offset.
 */
export function lapseHolds(
  accountId: string,
  account: Account,
  pos: Position,
  already = 0,
): { account: Account; docs: LedgerDoc[]; lapsed: Hold[] } {
  const lapsed = account.holds.filter((h) => h.expiresAt <= pos.clock);
  if (lapsed.length === 0) return { account, docs: [], lapsed };
  let current = account;
  const docs: LedgerDoc[] = [];
  for (const hold of lapsed) {
    const holds = current.holds.filter((h) => h !== hold);
    current = { ...current, reserved: current.reserved - hold.amount, holds, updatedAt: pos.clock };
    docs.push({
      _id: expiryDocId(pos, already + docs.length, hold.id),
      id: `${hold.id}~expired`,
      accountId,
      type: 'expire',
      amount: hold.amount,
      requestId: hold.id,
      status: 'applied',
      balanceAfter: current.balance,
      reservedAfter: current.reserved,
      partition: pos.partition,
      offset: pos.offset,
      // No message was received for a lapse: the log clock that lapsed it stands in both fields.
      receivedAt: pos.clock,
      decidedAt: pos.clock,
    });
  }
  return { account: current, docs, lapsed };
}

/** Whether `hold` is a withdrawal request's: a withdrawal or a cancel may end only those. */
export function isRequestHold(hold: Hold): boolean {
  return hold.counterparty === undefined;
}

/** Takes `amount` from the oldest requests' holds first; what a withdrawal without `requestId` settles. */
function consumeOldest(holds: readonly Hold[], amount: number): readonly Hold[] {
  let left = amount;
  const out: Hold[] = [];
  for (const h of holds) {
    if (!isRequestHold(h)) {
      out.push(h);
    } else if (left >= h.amount) {
      left -= h.amount;
    } else {
      out.push(left > 0 ? { ...h, amount: h.amount - left } : h);
      left = 0;
    }
  }
  return out;
}

function sum(holds: readonly Hold[]): number {
  let total = 0;
  for (const h of holds) total += h.amount;
  return total;
}

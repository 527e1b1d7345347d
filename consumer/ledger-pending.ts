// The rules of a two-phase transfer (docs/transfers.md, Two-phase transfers):
// a `transfer` with `pending: true` holds the amount on `from` as a withdrawal
// request does, remembering the account to credit; a `transfer_post` takes
// what it names of the hold (all of it when it names nothing) and releases the
// rest, and its credit is minted as an applied debit's is
// (consumer/transfer-legs.ts); a `transfer_void` releases the hold. A lapse
// releases it too (consumer/ledger.ts `lapseHolds`).
import type { TxMessage } from '../common/types.js';
import { amountOf, MAX_BALANCE, settle } from './ledger-decision.js';
import { availableFunds, debitRefusal } from './ledger-settings.js';
import { lapseTime, type Account, type Decision, type Hold, type Position } from './ledger.js';
import { debitRefusalRule } from './rule-names.js';

/**
 * A pending `transfer`: decided as a withdrawal request decides its hold (the
 * status first, then the funds); approved, the amount is held on `from` until
 * posted, voided or lapsed. Nothing is credited yet.
 */
export function holdTransfer(account: Account, msg: TxMessage, pos: Position): Decision {
  const amount = amountOf(msg);
  const refusal = debitRefusal(account);
  if (refusal !== undefined) return settle(debitRefusalRule(refusal), msg, pos, account, 'denied', refusal);
  if (availableFunds(account) < amount) return settle('pending-transfer-insufficient-funds', msg, pos, account, 'denied', 'insufficient_funds');
  const hold: Hold = { id: msg.id, amount, expiresAt: pendingLapseTime(msg, pos), counterparty: required(msg, 'counterparty') };
  return settle('pending-transfer-held', msg, pos, { ...account, reserved: account.reserved + amount, holds: [...account.holds, hold] }, 'approved');
}

/**
 * When a pending transfer's hold lapses: as a request's (consumer/ledger.ts
 * `lapseTime`), and at the latest when its id leaves the window. The api
 * bounds its time to live by the window already; the log bounds it too, so
 * that a transfer id used again after the window never finds the first hold
 * still open: the posts of the two are then decided at two clocks, and so are
 * their credits' ids (common/transfer-ids.ts).
 */
export function pendingLapseTime(msg: TxMessage, pos: Position): number {
  const lapse = lapseTime(msg, pos);
  return pos.idWindowMs === undefined ? lapse : Math.min(lapse, pos.clock + pos.idWindowMs);
}

/**
 * `transfer_post`: the hold of the pending transfer `requestId` is settled.
 * Its whole amount, or the part the post names, leaves the balance; the hold
 * goes whole (the rest is released). The money was held when the transfer
 * was approved, so neither the account's status nor its funds are judged
 * again; only the exact range is, as for every debit. The decision records
 * the amount posted and the account the hold credits, which the credit is
 * minted from.
 */
export function postTransfer(account: Account, msg: TxMessage, pos: Position): Decision {
  const held = pendingHold(account, msg);
  if (!held) return settle('post-not-held', msg, pos, account, 'not_found', 'request_not_held');
  const amount = msg.amount ?? held.amount;
  if (amount > held.amount) return settle('post-exceeds-pending', msg, pos, account, 'denied', 'exceeds_pending');
  if (account.balance < amount - MAX_BALANCE) return settle('post-out-of-range', msg, pos, account, 'denied', 'balance_out_of_range');
  const next = { ...account, balance: account.balance - amount, reserved: account.reserved - held.amount, holds: account.holds.filter((h) => h !== held) };
  const decision = settle('post-applied', msg, pos, next, 'applied');
  decision.outcome.postedAmount = decision.doc.postedAmount = amount;
  decision.outcome.counterparty = decision.doc.counterparty = held.counterparty;
  return decision;
}

/** `transfer_void`: the hold of the pending transfer `requestId` is released whole. */
export function voidTransfer(account: Account, msg: TxMessage, pos: Position): Decision {
  const held = pendingHold(account, msg);
  if (!held) return settle('void-not-held', msg, pos, account, 'not_found', 'request_not_held');
  return settle('void-applied', msg, pos, { ...account, reserved: account.reserved - held.amount, holds: account.holds.filter((h) => h !== held) }, 'applied');
}

/** The open hold of the pending transfer the message names: a withdrawal request's hold is never one. */
function pendingHold(account: Account, msg: TxMessage): (Hold & { counterparty: string }) | undefined {
  return account.holds.find((h): h is Hold & { counterparty: string } => h.id === msg.requestId && h.counterparty !== undefined);
}

function required(msg: TxMessage, key: 'counterparty'): string {
  const value = msg[key];
  // The schema requires it on a transfer (common/message.ts); a missing one here is a bug upstream.
  if (value === undefined) throw new TypeError(`${msg.type} ${msg.id} has no ${key}`);
  return value;
}

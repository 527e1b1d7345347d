// Builders for the messages the ledger tests feed in, and a deep freeze to
// prove the pure rules never touch their inputs.
import type { TickMessage, TxMessage } from '../../common/types.js';

type Extra = Partial<Omit<TxMessage, 'type' | 'id' | 'accountId'>>;

export function deposit(id: string, accountId: string, amount: number, extra: Extra = {}): TxMessage {
  return { v: 1, id, type: 'deposit', accountId, amount, receivedAt: 1_000, ...extra };
}

export function request(id: string, accountId: string, amount: number, extra: Extra = {}): TxMessage {
  return { v: 1, id, type: 'withdraw_request', accountId, amount, receivedAt: 1_000, ...extra };
}

export function withdraw(id: string, accountId: string, amount: number, extra: Extra = {}): TxMessage {
  return { v: 1, id, type: 'withdraw', accountId, amount, receivedAt: 1_000, ...extra };
}

export function cancel(id: string, accountId: string, requestId: string, extra: Extra = {}): TxMessage {
  return { v: 1, id, type: 'cancel', accountId, requestId, receivedAt: 1_000, ...extra };
}

/** A transfer's debit on `from`, crediting `to`. */
export function transfer(id: string, from: string, to: string, amount: number, extra: Extra = {}): TxMessage {
  return { v: 1, id, type: 'transfer', accountId: from, counterparty: to, amount, receivedAt: 1_000, ...extra };
}

/** A transfer's credit on `to`, from `from`, with the id the owner of `from` would mint (consumer/transfer-ids.ts). */
export function transferCredit(transferId: string, from: string, to: string, amount: number, decidedAt: number, extra: Extra = {}): TxMessage {
  const id = `${transferId}~credit~${from}~${decidedAt}`;
  return { v: 1, id, type: 'transfer_credit', accountId: to, counterparty: from, transferId, amount, receivedAt: decidedAt, ...extra };
}

/** A transfer's return to `from` of a credit `to` refused. */
export function transferReturn(transferId: string, from: string, to: string, amount: number, decidedAt: number, extra: Extra = {}): TxMessage {
  const id = `${transferId}~return~${decidedAt}`;
  return { v: 1, id, type: 'transfer_return', accountId: from, counterparty: to, transferId, amount, receivedAt: 1_000, ...extra };
}

/** A reversal of `requestId` on its account: of `amount`, or without one, of all that is left. */
export function reversal(id: string, accountId: string, requestId: string, amount?: number, extra: Extra = {}): TxMessage {
  const msg: TxMessage = { v: 1, id, type: 'reversal', accountId, requestId, receivedAt: 1_000, ...extra };
  if (amount !== undefined) msg.amount = amount;
  return msg;
}

/** A settings change: at least one of `overdraftLimit` and `accountStatus`. */
export function settings(id: string, accountId: string, change: Pick<TxMessage, 'overdraftLimit' | 'accountStatus'>, extra: Extra = {}): TxMessage {
  return { v: 1, id, type: 'account_settings', accountId, receivedAt: 1_000, ...change, ...extra };
}

export function tick(receivedAt: number): TickMessage {
  return { v: 1, type: 'tick', receivedAt };
}

/** Freezes an object graph, so any write to it throws (test modules are strict ESM). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/** Keys whose value is `undefined`: BSON would store them as null, JSON drops them. */
export function undefinedKeys(o: object): string[] {
  return Object.entries(o)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
}

/** A two-phase transfer on `from`: holds `amount` until posted, voided or lapsed. */
export function pendingTransfer(id: string, from: string, to: string, amount: number, extra: Extra = {}): TxMessage {
  return { v: 1, id, type: 'transfer', accountId: from, counterparty: to, amount, pending: true, expiresInSeconds: 60, expiresAt: 61_000, receivedAt: 1_000, ...extra };
}

/** The post of pending transfer `transferId` on `from`: the whole amount held, or `amount`. */
export function transferPost(id: string, from: string, transferId: string, amount?: number, extra: Extra = {}): TxMessage {
  const post: TxMessage = { v: 1, id, type: 'transfer_post', accountId: from, requestId: transferId, receivedAt: 1_000, ...extra };
  if (amount !== undefined) post.amount = amount;
  return post;
}

/** The void of pending transfer `transferId` on `from`. */
export function transferVoid(id: string, from: string, transferId: string, extra: Extra = {}): TxMessage {
  return { v: 1, id, type: 'transfer_void', accountId: from, requestId: transferId, receivedAt: 1_000, ...extra };
}

// The message a transfer's leg mints for the next leg (docs/transfers.md, The
// legs): an applied debit mints the credit for `to`, a denied credit the return
// for `from`, an applied post of a pending transfer the credit for its hold's
// account, and an applied reversal of a credit (Reversals) the credit back to
// the account the credit came from. Pure, like the rules: the same leg decided at the same place in
// the log mints the same message, so a batch decided again after a crash
// publishes it again with the same id and body, which its owner answers as a
// repeat.
import type { Outcome, TxMessage } from '../common/types.js';
import type { Position } from './ledger.js';
import { creditId, parseCreditId, returnId } from '../common/transfer-ids.js';

/**
 * The next leg of `msg`, newly decided as `outcome` at `pos`; undefined when
 * it has none. `original`: of a reversal, the decision it reversed.
 */
export function nextLeg(msg: TxMessage, outcome: Outcome, pos: Position, original?: Outcome): TxMessage | undefined {
  if (msg.type === 'transfer' && outcome.status === 'applied') return creditOf(msg, pos.clock);
  if (msg.type === 'transfer_post' && outcome.status === 'applied') return creditOf(postedTransfer(msg, outcome), pos.clock);
  if (msg.type === 'transfer_credit' && outcome.status === 'denied') return returnOf(msg, pos.clock);
  if (msg.type === 'reversal' && outcome.status === 'applied' && original?.type === 'transfer_credit') return reversalCreditOf(msg, outcome, original);
  return undefined;
}

/**
 * The credit of an applied reversal of a transfer's credit: the reversal is a
 * debit of the account credited, and this carries the amount back to the
 * account the credit came from, as a transfer's credit does, with an id made
 * of the reversal's id, its account and its `decidedAt`. A refused one is
 * returned to the reversal's account (`returnOf`). Nobody waits on it: the
 * reversal's own decision answers its caller.
 */
export function reversalCreditOf(reversal: TxMessage, outcome: Outcome, original: Outcome): TxMessage {
  const credit: TxMessage = {
    v: 1,
    id: creditId(reversal.id, reversal.accountId, outcome.decidedAt),
    type: 'transfer_credit',
    accountId: required(original, 'counterparty'),
    amount: required(outcome, 'amount'),
    counterparty: reversal.accountId,
    transferId: reversal.id,
    receivedAt: outcome.decidedAt,
  };
  copyLabels(reversal, credit);
  return credit;
}

/**
 * The credit of an applied debit, decided at `decidedAt`, which is both in its
 * id and its `receivedAt`. It carries the caller's `replyTo` and
 * `creditCallId` (as its `callId`) so that the owner of `to` answers the call.
 */
export function creditOf(transfer: TxMessage, decidedAt: number): TxMessage {
  const to = required(transfer, 'counterparty');
  const credit: TxMessage = {
    v: 1,
    id: creditId(transfer.id, transfer.accountId, decidedAt),
    type: 'transfer_credit',
    accountId: to,
    amount: required(transfer, 'amount'),
    counterparty: transfer.accountId,
    transferId: transfer.id,
    receivedAt: decidedAt,
  };
  copyLabels(transfer, credit);
  if (transfer.replyTo !== undefined) credit.replyTo = transfer.replyTo;
  if (transfer.creditCallId !== undefined) credit.callId = transfer.creditCallId;
  return credit;
}

/**
 * A post as the transfer it completes (docs/transfers.md, Two-phase
 * transfers): the pending transfer's id, the account its hold credits and the
 * amount posted, which the post's decision records; the post's own labels,
 * `replyTo` and `creditCallId`. Its credit is then minted as an applied
 * debit's, with the post's `decidedAt` in its id.
 */
export function postedTransfer(post: TxMessage, outcome: Outcome): TxMessage {
  const transfer: TxMessage = { ...post, type: 'transfer', id: required(post, 'requestId') };
  delete transfer.requestId;
  if (outcome.counterparty !== undefined) transfer.counterparty = outcome.counterparty;
  if (outcome.postedAmount !== undefined) transfer.amount = outcome.postedAmount;
  return transfer;
}

/**
 * The return of a credit denied at `decidedAt`. Its id names the debit's
 * `decidedAt`, read back from the credit's id, where the debit put it; a
 * credit whose id does not parse (none the owners mint) falls back on its
 * `receivedAt`, which the debit set to the same clock. Nobody waits on it:
 * the denied credit itself answers the caller.
 */
export function returnOf(credit: TxMessage, decidedAt: number): TxMessage {
  const transferId = required(credit, 'transferId');
  const debitDecidedAt = parseCreditId(credit.id)?.decidedAt ?? credit.receivedAt;
  const back: TxMessage = {
    v: 1,
    id: returnId(transferId, debitDecidedAt),
    type: 'transfer_return',
    accountId: required(credit, 'counterparty'),
    amount: required(credit, 'amount'),
    counterparty: credit.accountId,
    transferId,
    receivedAt: decidedAt,
  };
  copyLabels(credit, back);
  return back;
}

function copyLabels(from: TxMessage, to: TxMessage): void {
  if (from.reference !== undefined) to.reference = from.reference;
  if (from.metadata !== undefined) to.metadata = { ...from.metadata };
}

function required<K extends 'counterparty' | 'transferId' | 'amount' | 'requestId'>(msg: TxMessage | Outcome, key: K): NonNullable<TxMessage[K]> {
  const value = msg[key];
  // The schema requires these on a transfer's legs (common/message.ts); a missing one here is a bug upstream.
  if (value === undefined) throw new TypeError(`${msg.type} ${msg.id} has no ${key}`);
  return value as NonNullable<TxMessage[K]>;
}

// The reference model's account of transfers (docs/transfers.md, The legs),
// for the replay property test: the credit an applied debit must mint, the
// return a denied credit must mint, each built here from the contract rather
// than by the code under test, and the state of every transfer, so that the
// money in flight is known and each debit is seen to end in exactly one
// credit or return.
import type { Outcome, TxMessage } from '../../common/types.js';

type LegState = 'debited' | 'completed' | 'returning' | 'returned';

interface Transfer {
  from: string;
  to: string;
  amount: number;
  /** The log clock at the debit: in the credit's id and the return's. */
  debitClock: number;
  state: LegState;
}

function fail(what: string, offset: number, detail?: unknown): never {
  throw new Error(`offset ${offset}: ${what}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}`);
}

/** The labels a leg carries from the message before it. */
function withLabels(leg: TxMessage, from: TxMessage): TxMessage {
  if (from.reference !== undefined) leg.reference = from.reference;
  if (from.metadata !== undefined) leg.metadata = { ...from.metadata };
  return leg;
}

export class ModelLegs {
  /** By the credit's key (`to/creditId`). */
  private readonly byCredit = new Map<string, Transfer>();
  /** By the return's key (`from/returnId`), once a credit was refused. */
  private readonly byReturn = new Map<string, Transfer>();
  /** How many transfers ended each way. */
  completed = 0;
  returned = 0;
  /** Transfer credits reversed: each a debit of the account credited, whose credit back is followed as a transfer's. */
  reversedCredits = 0;

  /** An applied debit at `clock`: the credit it must mint. */
  debited(msg: TxMessage, clock: number): TxMessage {
    const to = msg.counterparty!;
    const credit: TxMessage = {
      v: 1,
      id: `${msg.id}~credit~${msg.accountId}~${clock}`,
      type: 'transfer_credit',
      accountId: to,
      amount: msg.amount!,
      counterparty: msg.accountId,
      transferId: msg.id,
      receivedAt: clock,
    };
    if (msg.replyTo !== undefined) credit.replyTo = msg.replyTo;
    if (msg.creditCallId !== undefined) credit.callId = msg.creditCallId;
    this.byCredit.set(`${to}/${credit.id}`, { from: msg.accountId, to, amount: msg.amount!, debitClock: clock, state: 'debited' });
    return withLabels(credit, msg);
  }

  /**
   * An applied reversal at `clock` of `credit`, taking `amount`: the credit
   * back to the account the credit came from that it must mint, followed from
   * then on as a transfer's credit, from the reversal's account.
   */
  reversedCredit(reversal: TxMessage, credit: Outcome, amount: number, clock: number): TxMessage {
    const to = credit.counterparty!;
    const back: TxMessage = {
      v: 1,
      id: `${reversal.id}~credit~${reversal.accountId}~${clock}`,
      type: 'transfer_credit',
      accountId: to,
      amount,
      counterparty: reversal.accountId,
      transferId: reversal.id,
      receivedAt: clock,
    };
    this.byCredit.set(`${to}/${back.id}`, { from: reversal.accountId, to, amount, debitClock: clock, state: 'debited' });
    this.reversedCredits++;
    return withLabels(back, reversal);
  }

  /** A credit newly decided at `clock`: when denied, the return it must mint. */
  credited(msg: TxMessage, applied: boolean, clock: number, offset: number): TxMessage | undefined {
    const transfer = this.byCredit.get(`${msg.accountId}/${msg.id}`);
    if (!transfer) fail('a credit no debit minted', offset, msg);
    if (transfer.state !== 'debited') fail('a credit decided twice', offset, { msg, transfer });
    if (applied) {
      transfer.state = 'completed';
      this.completed++;
      return undefined;
    }
    transfer.state = 'returning';
    const back: TxMessage = {
      v: 1,
      id: `${msg.transferId}~return~${transfer.debitClock}`,
      type: 'transfer_return',
      accountId: transfer.from,
      amount: transfer.amount,
      counterparty: transfer.to,
      transferId: msg.transferId!,
      receivedAt: clock,
    };
    this.byReturn.set(`${back.accountId}/${back.id}`, transfer);
    return withLabels(back, msg);
  }

  /** A return newly decided. */
  returnedBy(msg: TxMessage, offset: number): void {
    const transfer = this.byReturn.get(`${msg.accountId}/${msg.id}`);
    if (!transfer) fail('a return no refused credit minted', offset, msg);
    if (transfer.state !== 'returning') fail('a return decided twice', offset, { msg, transfer });
    transfer.state = 'returned';
    this.returned++;
  }

  /** The money debited and not yet credited or returned. */
  get inFlight(): bigint {
    let total = 0n;
    for (const t of this.byCredit.values()) if (t.state === 'debited' || t.state === 'returning') total += BigInt(t.amount);
    return total;
  }

  /** Once every minted message is decided: each applied debit ended in exactly one credit or one return. */
  finish(offset: number): void {
    for (const [key, t] of this.byCredit) if (t.state !== 'completed' && t.state !== 'returned') fail('a transfer left in flight', offset, { key, t });
  }
}

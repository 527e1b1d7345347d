// The reference model's rules, one message type at a time, at the level of
// docs/ledger-rules.md and docs/transfers.md: each new decision document is
// held to what its rule says, and the model's accounts follow it. Written
// apart from consumer/ledger.ts, so that the two agreeing means something.
import type { AccountStatus, ClockSource, LedgerDoc, Outcome, TxMessage, TxReason, TxStatus } from '../../common/types.js';
import type { ModelLegs } from './ledger-model-legs.js';
import { isPendingHold, pendingHoldOf, postOrVoid } from './ledger-model-pending.js';

/** `counterparty`: of a pending transfer's hold, the account its post credits. */
export type ModelHold = { id: string; amount: number; expiresAt: number; counterparty?: string };

export interface ModelAccount {
  balance: number;
  holds: ModelHold[];
  overdraftLimit: number;
  status: AccountStatus;
  /** The document that took the balance from >= 0 to below zero, while it stays there. */
  wentNegative?: LedgerDoc;
}

/** What the rules read and change of the model. */
export interface RuleContext {
  account(id: string): ModelAccount;
  readonly clock: number;
  readonly clockSource: ClockSource;
  /** The id window, ms (Infinity: none). */
  readonly windowMs: number;
  deposited: bigint;
  withdrawn: bigint;
  reversedDeposits: bigint;
  reversedWithdrawals: bigint;
  readonly legs: ModelLegs;
  /** The decision of `id` on the account while remembered, with the total reversed of it. */
  original(accountId: string, id: string): { outcome: Outcome; reversed: number } | undefined;
  /** Marks an approved request (or pending transfer) cancelled, expired, posted or voided; true when it was one. */
  mark(accountId: string, requestId: string, status: TxStatus): boolean;
}

const NEVER = Number.MAX_SAFE_INTEGER;
export const reserved = (a: ModelAccount) => a.holds.reduce((s, h) => s + h.amount, 0);

function fail(what: string, offset: number, detail?: unknown): never {
  throw new Error(`offset ${offset}: ${what}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}`);
}

/** What refuses any debit of the account, whatever its amount. */
function debitRefused(a: ModelAccount): TxReason | undefined {
  return a.status === 'frozen' ? 'account_frozen' : a.status === 'closed' ? 'account_closed' : undefined;
}

/**
 * Holds `d`, the new decision of `msg`, to its rule and applies it to the
 * model. Returns the messages the decision must mint; pushes the requests it
 * cancelled onto `changed`.
 */
export function applyRule(ctx: RuleContext, msg: TxMessage, d: LedgerDoc, offset: number, changed: [string, TxStatus][]): TxMessage[] {
  const a = ctx.account(msg.accountId);
  const b = a.balance;
  const r = reserved(a);
  const available = b - r + a.overdraftLimit;
  const amount = msg.amount ?? 0;
  const minted: TxMessage[] = [];
  const expect = (status: TxStatus, reason?: string) => {
    if (d.status !== status || d.reason !== reason) fail(`expected ${status}/${reason}`, offset, { d, a });
  };
  const denied = (reason: TxReason | undefined) => {
    if (reason !== undefined) expect('denied', reason);
    return reason !== undefined;
  };
  switch (msg.type) {
    case 'deposit':
    case 'transfer_credit': {
      const refusal = a.status === 'closed' ? 'account_closed' : b + amount > Number.MAX_SAFE_INTEGER ? 'balance_out_of_range' : undefined;
      if (msg.type === 'transfer_credit') {
        const back = ctx.legs.credited(msg, refusal === undefined, ctx.clock, offset);
        if (back) minted.push(back);
      }
      if (denied(refusal)) break;
      expect('applied');
      a.balance += amount;
      if (msg.type === 'deposit') ctx.deposited += BigInt(amount);
      break;
    }
    case 'withdraw_request':
      if (denied(debitRefused(a))) break;
      if (msg.holdLimit !== undefined && a.holds.length >= msg.holdLimit) {
        expect('denied', 'hold_limit');
      } else if (available >= amount) {
        expect('approved');
        // By the broker's clock a time to live counts from the decision; else, and without one, expiresAt.
        const byClock = ctx.clockSource === 'log-append-time' && msg.expiresInSeconds !== undefined;
        a.holds.push({ id: msg.id, amount, expiresAt: byClock ? Math.min(NEVER, ctx.clock + 1000 * msg.expiresInSeconds!) : (msg.expiresAt ?? NEVER) });
      } else {
        expect('denied', 'insufficient_funds');
      }
      break;
    case 'withdraw': {
      if (denied(debitRefused(a) ?? (b - amount < -Number.MAX_SAFE_INTEGER ? 'balance_out_of_range' : undefined))) break;
      const named = msg.requestId === undefined ? undefined : a.holds.find((h) => h.id === msg.requestId && !isPendingHold(h));
      if (msg.requestId !== undefined && !named) expect('applied', 'request_not_held');
      else expect('applied');
      if (named) {
        a.holds = a.holds.filter((h) => h !== named);
      } else if (msg.requestId === undefined) {
        let left = amount; // oldest requests' holds first, partially
        for (const h of a.holds.filter((x) => !isPendingHold(x))) {
          const take = Math.min(left, h.amount);
          h.amount -= take;
          left -= take;
        }
        a.holds = a.holds.filter((h) => h.amount > 0);
        const requested = r - reserved({ ...a, holds: a.holds.filter(isPendingHold) });
        if (reserved(a) !== r - Math.min(requested, amount)) fail("reserved -= min(the requests' holds, amount)", offset);
      }
      a.balance -= amount;
      ctx.withdrawn += BigInt(amount);
      if ((d.overdraft === true) !== a.balance < -a.overdraftLimit) fail('overdraft iff the balance goes below -overdraftLimit', offset, d);
      break;
    }
    case 'cancel': {
      const held = a.holds.find((h) => h.id === msg.requestId && !isPendingHold(h));
      if (held) {
        expect('applied');
        a.holds = a.holds.filter((h) => h !== held);
        if (ctx.mark(msg.accountId, held.id, 'cancelled')) changed.push([held.id, 'cancelled']);
      } else {
        expect('not_found', 'request_not_held');
      }
      break;
    }
    case 'transfer':
      if (denied(debitRefused(a) ?? (available < amount ? 'insufficient_funds' : undefined))) break;
      if (msg.pending) {
        expect('approved');
        a.holds.push(pendingHoldOf(ctx, msg));
        break;
      }
      expect('applied');
      a.balance -= amount;
      minted.push(ctx.legs.debited(msg, ctx.clock));
      break;
    case 'transfer_return':
      expect('applied');
      a.balance += amount;
      ctx.legs.returnedBy(msg, offset);
      break;
    case 'reversal':
      reverse(ctx, msg, d, offset, changed, minted, expect);
      break;
    case 'transfer_post':
    case 'transfer_void':
      minted.push(...postOrVoid(ctx, a, msg, d, offset, expect, changed));
      break;
    case 'account_settings':
      if (denied(msg.accountStatus === 'closed' && (b !== 0 || a.holds.length > 0) ? 'account_not_empty' : undefined)) break;
      expect('applied');
      if (msg.overdraftLimit !== undefined) a.overdraftLimit = msg.overdraftLimit;
      if (msg.accountStatus !== undefined) a.status = msg.accountStatus;
      break;
  }
  if (b >= 0 && a.balance < 0) a.wentNegative = d;
  if (a.balance >= 0) delete a.wentNegative;
  if (d.balanceAfter !== a.balance || d.reservedAfter !== reserved(a)) fail('balanceAfter/reservedAfter', offset, { d, a });
  const approval = d.status === 'approved' || (d.type === 'transfer' && d.status === 'applied');
  if (approval && d.balanceAfter - d.reservedAfter < -a.overdraftLimit) fail('an approval left available below -overdraftLimit', offset, d);
  return minted;
}

/**
 * A reversal (docs/transfers.md, Reversals): of the original remembered on
 * the account, when it is an applied deposit, withdrawal or transfer credit,
 * never more than is left of it; a frozen or closed account does not refuse it.
 */
function reverse(
  ctx: RuleContext,
  msg: TxMessage,
  d: LedgerDoc,
  offset: number,
  changed: [string, TxStatus][],
  minted: TxMessage[],
  expect: (status: TxStatus, reason?: string) => void,
): void {
  const a = ctx.account(msg.accountId);
  const original = ctx.original(msg.accountId, msg.requestId!);
  const type = original?.outcome.type;
  const reversible = original !== undefined && original.outcome.status === 'applied' && (type === 'deposit' || type === 'withdraw' || type === 'transfer_credit');
  const left = reversible ? original.outcome.amount! - original.reversed : 0;
  const take = msg.amount ?? left;
  if (d.amount !== take || (d.remainder === true) !== (msg.amount === undefined)) fail('a reversal records what it takes, and whether it named it', offset, { d, left });
  if (!original) return expect('not_found', 'original_not_found');
  if (!reversible) return expect('not_found', 'not_reversible');
  if (take === 0 || take > left) return expect('denied', 'exceeds_original');
  const out = type !== 'withdraw';
  const after = BigInt(a.balance) + (out ? -BigInt(take) : BigInt(take));
  if (after > BigInt(Number.MAX_SAFE_INTEGER) || after < -BigInt(Number.MAX_SAFE_INTEGER)) return expect('denied', 'balance_out_of_range');
  expect('applied');
  a.balance = Number(after);
  original.reversed += take;
  changed.push([msg.requestId!, 'applied']);
  if (type === 'deposit') ctx.reversedDeposits += BigInt(take);
  else if (type === 'withdraw') ctx.reversedWithdrawals += BigInt(take);
  else minted.push(ctx.legs.reversedCredit(msg, original.outcome, take, ctx.clock));
  if ((d.overdraft === true) !== (out && a.balance < -a.overdraftLimit)) fail('a reversal of money in is flagged past the limit, and no other', offset, d);
}

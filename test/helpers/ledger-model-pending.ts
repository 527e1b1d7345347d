// The reference model's rules of a two-phase transfer (docs/transfers.md,
// Two-phase transfers), for the replay property test: the hold a pending
// transfer opens, the post that takes it (minting the credit, built here from
// the contract through the model's legs) and the void that releases it.
// Written apart from consumer/ledger-pending.ts, so that the two agreeing
// means something.
import type { LedgerDoc, TxMessage, TxStatus } from '../../common/types.js';
import type { ModelAccount, ModelHold, RuleContext } from './ledger-model-rules.js';

const NEVER = Number.MAX_SAFE_INTEGER;

function fail(what: string, offset: number, detail?: unknown): never {
  throw new Error(`offset ${offset}: ${what}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}`);
}

/** A pending transfer's hold: only such a hold is posted or voided, and only those are never cancelled or withdrawn. */
export const isPendingHold = (h: ModelHold) => h.counterparty !== undefined;

/** The hold a pending transfer approved at the model's clock opens: it lapses as a request's does, or when its id leaves the window. */
export function pendingHoldOf(ctx: RuleContext, msg: TxMessage): ModelHold {
  const byClock = ctx.clockSource === 'log-append-time' && msg.expiresInSeconds !== undefined;
  const expiresAt = byClock ? Math.min(NEVER, ctx.clock + 1000 * msg.expiresInSeconds!) : (msg.expiresAt ?? NEVER);
  // No later than its id leaves the window: the first hold is never open beside a transfer that reuses its id.
  return { id: msg.id, amount: msg.amount!, expiresAt: Math.min(expiresAt, ctx.clock + ctx.windowMs), counterparty: msg.counterparty! };
}

/**
 * Holds `d`, the new decision of a post or void, to its rule and applies it
 * to `a`. `expect` checks the status and reason. Returns the credit a post
 * must mint.
 */
export function postOrVoid(
  ctx: RuleContext,
  a: ModelAccount,
  msg: TxMessage,
  d: LedgerDoc,
  offset: number,
  expect: (status: TxStatus, reason?: string) => void,
  changed: [string, TxStatus][],
): TxMessage[] {
  const held = a.holds.find((h) => h.id === msg.requestId && isPendingHold(h));
  if (!held) {
    expect('not_found', 'request_not_held');
    return [];
  }
  if (msg.type === 'transfer_void') {
    expect('applied');
    a.holds = a.holds.filter((h) => h !== held);
    if (ctx.mark(msg.accountId, held.id, 'voided')) changed.push([held.id, 'voided']);
    return [];
  }
  const amount = msg.amount ?? held.amount;
  if (amount > held.amount) {
    expect('denied', 'exceeds_pending');
    return [];
  }
  if (a.balance - amount < -NEVER) {
    expect('denied', 'balance_out_of_range');
    return [];
  }
  expect('applied');
  if (d.postedAmount !== amount || d.counterparty !== held.counterparty) fail('a post records the amount posted and the account it credits', offset, { d, held });
  a.holds = a.holds.filter((h) => h !== held);
  a.balance -= amount;
  if (ctx.mark(msg.accountId, held.id, 'posted')) changed.push([held.id, 'posted']);
  // Its credit is an applied debit's: of the pending transfer's id, with the post's clock, labels and tokens.
  const asTransfer: TxMessage = { ...msg, type: 'transfer', id: held.id, counterparty: held.counterparty, amount };
  return [ctx.legs.debited(asTransfer, ctx.clock)];
}

// A transfer as v1 shows it (docs/transfers.md, What a transfer's state is):
// its state read from the outcomes of its legs, the debit on `from`, the
// credit on `to` and, for a refused credit, the return on `from`; for a
// two-phase transfer, its hold and the post or void that ended it. One view
// for the answers of POST /v1/transfers (and its post and void) and for GET
// /v1/transfers/:id.
import { creditId, returnId } from '../common/transfer-ids.js';
import type { Metadata, Outcome, TxReason } from '../common/types.js';
import { REASONS } from './routes/v1/v1-schemas.js';

export const TRANSFER_STATUSES = ['pending', 'denied', 'debited', 'completed', 'returned', 'voided', 'expired'] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];

/** What the call asked for: the view of a transfer no owner has decided yet. */
export interface TransferAsked {
  id: string;
  from: string;
  to?: string;
  amount?: number;
  reference?: string;
  metadata?: Metadata;
  /** A two-phase transfer (docs/transfers.md, Two-phase transfers). */
  pending?: true;
}

/** The outcomes of a transfer's legs known so far. */
export interface TransferLegs {
  /** The transfer's own decision: of a two-phase transfer, its hold's approval (with its later status). */
  debit?: Outcome;
  /** Of a two-phase transfer: the applied post or void that ended its hold, once known. */
  settled?: Outcome;
  credit?: Outcome;
  /** The return of a refused credit, once its owner decided it. */
  returned?: Outcome;
}

export interface TransferView {
  id: string;
  from: string;
  to?: string;
  amount?: number;
  status: TransferStatus;
  reason?: TxReason;
  reference?: string;
  metadata?: Metadata;
  /** A two-phase transfer. */
  pending?: true;
  /** Of a two-phase transfer: when its amount was held on `from`. */
  heldAt?: string;
  voidedAt?: string;
  debitedAt?: string;
  creditedAt?: string;
  returnedAt?: string;
  /** Of a completed transfer: the total its reversals took back (docs/transfers.md, Reversals), kept on its credit. */
  reversed?: number;
  replayed?: true;
}

/** The id the owner of `from` gives the credit of `debit` (common/transfer-ids.ts). */
export function creditIdOf(debit: Pick<Outcome, 'id' | 'accountId' | 'decidedAt'>): string {
  return creditId(debit.id, debit.accountId, debit.decidedAt);
}

/** The id the owner of `to` gives the return of a refused credit of `debit`. */
export function returnIdOf(debit: Pick<Outcome, 'id' | 'decidedAt'>): string {
  return returnId(debit.id, debit.decidedAt);
}

export function transferStatus({ debit, settled, credit }: TransferLegs): TransferStatus {
  if (!debit) return 'pending';
  if (debit.pending) {
    const held = heldStatus(debit, settled);
    if (held !== 'posted') return held;
  } else if (debit.status !== 'applied') {
    return 'denied';
  }
  if (!credit) return 'debited';
  return credit.status === 'applied' ? 'completed' : 'returned';
}

/**
 * What became of a two-phase transfer's hold: the post or void that ended it
 * when known, else the later status its decision reads (`posted` is then
 * followed by its credit, as a single-phase transfer's debit is).
 */
function heldStatus(debit: Outcome, settled: Outcome | undefined): TransferStatus | 'posted' {
  if (settled?.status === 'applied') return settled.type === 'transfer_post' ? 'posted' : 'voided';
  switch (debit.status) {
    case 'approved':
      return 'pending';
    case 'posted':
    case 'voided':
    case 'expired':
      return debit.status;
    default:
      return 'denied';
  }
}

/** The post that ended a two-phase transfer's hold, when it is known. */
function postOf({ settled }: TransferLegs): Outcome | undefined {
  return settled?.type === 'transfer_post' && settled.status === 'applied' ? settled : undefined;
}

/**
 * The decision that took the money from `from`, as its credit's and return's
 * ids name it: a single-phase transfer's debit, or a two-phase transfer's
 * post (of the transfer's id, at the post's time). Undefined while none did.
 */
export function moneyLeg(legs: TransferLegs): Pick<Outcome, 'id' | 'accountId' | 'decidedAt'> | undefined {
  const { debit } = legs;
  if (!debit) return undefined;
  if (!debit.pending) return debit.status === 'applied' ? debit : undefined;
  const post = postOf(legs);
  return post && { id: debit.id, accountId: debit.accountId, decidedAt: post.decidedAt };
}

/** The transfer's view: what the debit decided where it is known, else what the call asked for. */
export function transferView(asked: TransferAsked, legs: TransferLegs): TransferView {
  const { debit, credit, returned } = legs;
  const status = transferStatus(legs);
  const view: TransferView = { id: asked.id, from: asked.from, status };
  const to = debit?.counterparty ?? asked.to;
  const amount = postOf(legs)?.postedAmount ?? debit?.amount ?? asked.amount;
  const reference = debit ? debit.reference : asked.reference;
  const metadata = debit ? debit.metadata : asked.metadata;
  if (to !== undefined) view.to = to;
  if (amount !== undefined) view.amount = amount;
  const reason = status === 'denied' ? debit?.reason : status === 'returned' ? credit?.reason : undefined;
  if (reason !== undefined) view.reason = reason;
  if (reference !== undefined) view.reference = reference;
  if (metadata !== undefined) view.metadata = metadata;
  if (debit ? debit.pending : asked.pending) view.pending = true;
  if (debit?.pending && debit.status !== 'denied') view.heldAt = isoOf(debit.decidedAt);
  if (legs.settled?.type === 'transfer_void' && legs.settled.status === 'applied') view.voidedAt = isoOf(legs.settled.decidedAt);
  const taken = moneyLeg(legs);
  if (taken) view.debitedAt = isoOf(taken.decidedAt);
  if (credit?.status === 'applied') view.creditedAt = isoOf(credit.decidedAt);
  if (returned) view.returnedAt = isoOf(returned.decidedAt);
  if (credit?.reversed !== undefined) view.reversed = credit.reversed;
  if (debit?.replayed) view.replayed = true;
  return view;
}

/**
 * The HTTP status of a transfer's answer: 200 once completed, as an applied
 * deposit or withdrawal answers (201 is a withdrawal request's, whose hold
 * stays open as a resource to settle or cancel; a completed transfer leaves
 * nothing open); 201 for a two-phase transfer held, whose hold stays open as
 * a request's does; 402 when denied or returned, or for a repeat of a
 * two-phase transfer voided or expired (as a cancelled or expired request's
 * repeat answers); 202 while a leg is undecided.
 */
export function transferStatusCode(view: Pick<TransferView, 'status' | 'heldAt'>): 200 | 201 | 202 | 402 {
  switch (view.status) {
    case 'completed':
      return 200;
    case 'denied':
    case 'returned':
    case 'voided':
    case 'expired':
      return 402;
    case 'pending':
      return view.heldAt === undefined ? 202 : 201;
    case 'debited':
      return 202;
  }
}

export function transferLocation(id: string): string {
  return `/v1/transfers/${encodeURIComponent(id)}`;
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

/** The transfer view's schema: the route schemas are the one source of the OpenAPI document. */
export const transferSchema = {
  type: 'object',
  required: ['id', 'from', 'status'],
  properties: {
    id: { type: 'string' },
    from: { type: 'string', description: 'The account debited.' },
    to: { type: 'string', description: 'The account credited.' },
    amount: { type: 'integer', description: 'Minor units.' },
    status: {
      type: 'string',
      enum: [...TRANSFER_STATUSES],
      description:
        '`pending`: in the log, the debit not decided yet, or a two-phase transfer whose amount is held on `from` (`heldAt`) until posted, voided or expired; `denied`: the debit was refused, nothing moved; `debited`: the money left `from`, the credit is not decided yet; `completed`: `to` is credited; `returned`: `to` refused the credit and the amount goes back to `from`; `voided`: a two-phase transfer whose hold was released; `expired`: a two-phase transfer whose hold lapsed.',
    },
    reason: { type: 'string', enum: [...REASONS], description: 'Why the debit was denied, or why the credit was refused.' },
    reference: { type: 'string' },
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    pending: { type: 'boolean', description: 'A two-phase transfer: its amount is held until posted (`POST /v1/transfers/:id/post`), voided or expired.' },
    heldAt: { type: 'string', format: 'date-time' },
    voidedAt: { type: 'string', format: 'date-time' },
    debitedAt: { type: 'string', format: 'date-time', description: 'When the money left `from`: the debit, or a two-phase transfer\'s post.' },
    creditedAt: { type: 'string', format: 'date-time' },
    returnedAt: { type: 'string', format: 'date-time' },
    reversed: { type: 'integer', description: 'The total reversals of the transfer took back from `to` so far.' },
    replayed: { type: 'boolean', description: 'This answers a repeat of a transfer already decided.' },
  },
} as const;

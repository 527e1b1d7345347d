// A decision packed into one flat string: what a partition holds in memory
// until the decision's ledger document is inserted (consumer/partition.ts;
// after that the ledger is where it is read back), and what Redis keeps, after
// its version, as an id's outcome for OUTCOME_TTL_SECONDS
// (common/read-model.ts). Snapshots of formats 2 and 3 carried every
// remembered id in this form (consumer/snapshot-format.ts reads them still).
//
// The key (`ledgerId`) already holds the account and the id, so the string
// holds the rest:
// `decidedAt|type|status|amount|balance|reserved|requestId|reason|overdraft|expiresInSeconds`,
// types, statuses and reasons as one-letter codes. Ids never contain `|` or `/`
// (common/message.ts patterns). The last field came later and is written only
// when there is a time to live: a string of nine fields reads without one, and
// code that reads nine fields reads a string of ten as the same outcome
// without it. An eleventh, written only when there is one, holds what free
// text may fill (a transfer's counterparty and transfer id, a reference,
// metadata, settings, a two-phase transfer's flag and a post's amount) as
// base64url JSON (docs/transfers.md), with the total reversed of an original
// and a reversal's `remainder` mark.
import type { Outcome, TxReason, TxStatus, TxType } from './types.js';

export type Remembered = string;

const TYPE_CODES: Record<TxType, string> = {
  deposit: 'd',
  withdraw_request: 'r',
  withdraw: 'w',
  cancel: 'c',
  transfer: 't',
  transfer_credit: 'i',
  transfer_return: 'b',
  account_settings: 's',
  reversal: 'x',
  // Upper case: a code of its own whatever lower-case letters other types take.
  transfer_post: 'P',
  transfer_void: 'V',
};
const STATUS_CODES: Record<TxStatus, string> = {
  applied: 'a',
  approved: 'p',
  denied: 'd',
  cancelled: 'c',
  expired: 'e',
  not_found: 'n',
  conflict: 'x',
  posted: 'P',
  voided: 'V',
};
const REASON_CODES: Record<TxReason, string> = {
  insufficient_funds: 'f',
  id_reused: 'u',
  request_not_held: 'h',
  timeout: 't',
  balance_out_of_range: 'o',
  hold_limit: 'l',
  account_frozen: 'z',
  account_closed: 'k',
  account_not_empty: 'm',
  original_not_found: 'g',
  not_reversible: 'q',
  exceeds_original: 'y',
  exceeds_pending: 'E',
};

const TYPES = invert(TYPE_CODES);
const STATUSES = invert(STATUS_CODES);
const REASONS = invert(REASON_CODES);

/**
 * Packs an outcome (its decidedAt is when the id was first seen). Joined from
 * an array, so the result is one flat string: a template literal would be a
 * tree of its parts, several times the size once a million are kept.
 */
export function remember(o: Outcome): Remembered {
  const fields = [
    o.decidedAt,
    TYPE_CODES[o.type],
    STATUS_CODES[o.status],
    o.amount ?? '',
    o.balance,
    o.reserved,
    o.requestId ?? '',
    o.reason === undefined ? '' : REASON_CODES[o.reason],
    o.overdraft ? '1' : '',
  ];
  // Only a request's time to live is appended: every other outcome packs as it did before the field.
  const extras = extrasOf(o);
  if (o.expiresInSeconds !== undefined || extras !== undefined) fields.push(o.expiresInSeconds ?? '');
  if (extras !== undefined) fields.push(Buffer.from(JSON.stringify(extras)).toString('base64url'));
  return fields.join('|');
}

/** The outcome `remember` packed, for the transaction `id` on `accountId`. */
export function recall(accountId: string, id: string, r: Remembered): Outcome {
  const [at, type, status, amount, balance, reserved, requestId, reason, overdraft, expiresInSeconds, extras] = r.split('|') as [string, ...string[]];
  const o: Outcome = {
    id,
    accountId,
    type: decode(TYPES, type),
    status: decode(STATUSES, status),
    balance: Number(balance),
    reserved: Number(reserved),
    decidedAt: Number(at),
  };
  if (amount) o.amount = Number(amount);
  if (requestId) o.requestId = requestId;
  if (reason) o.reason = decode(REASONS, reason);
  if (overdraft) o.overdraft = true;
  if (expiresInSeconds) o.expiresInSeconds = Number(expiresInSeconds);
  if (extras) Object.assign(o, JSON.parse(Buffer.from(extras, 'base64url').toString('utf8')) as Extras);
  return o;
}

/** The members of an outcome that free text may fill (a reference, metadata): packed as base64url JSON, which holds no `|`. */
type Extras = Pick<Outcome, (typeof EXTRA_KEYS)[number]>;

/**
 * `pending` and `postedAmount` (two-phase transfers) and `reversed` and `remainder`
 * (docs/transfers.md, Reversals) ride here too: most outcomes have none of them.
 */
const EXTRA_KEYS = [
  'counterparty',
  'transferId',
  'reference',
  'metadata',
  'overdraftLimit',
  'accountStatus',
  'pending',
  'postedAmount',
  'reversed',
  'remainder',
] as const;

function extrasOf(o: Outcome): Extras | undefined {
  let extras: Record<string, unknown> | undefined;
  for (const key of EXTRA_KEYS) {
    if (o[key] === undefined) continue;
    extras ??= {};
    extras[key] = o[key];
  }
  return extras as Extras | undefined;
}

/** When the id was first seen (log time): what the window is judged by. */
export function rememberedAt(r: Remembered): number {
  return Number(r.slice(0, r.indexOf('|')));
}

function invert<K extends string>(codes: Record<K, string>): Map<string, K> {
  return new Map(Object.entries(codes).map(([k, code]) => [code as string, k as K]));
}

function decode<K>(codes: Map<string, K>, code: string | undefined): K {
  const value = code === undefined ? undefined : codes.get(code);
  if (value === undefined) throw new TypeError(`unknown code ${String(code)} in a remembered decision`);
  return value;
}

// A call's body: what the rule "one id, one body" compares
// (docs/ledger-rules.md, Transaction ids). The partition owner compares a
// repeat of an id with the first decision it remembers; the api digests the
// body of a call it answers with 202 into the link it gives, so that whoever
// polls that link learns whether the decision recorded is that call's own.
import { createHash } from 'node:crypto';
import type { TxMessage } from './types.js';

/**
 * The members of a call that make its body; the rest (times, the replica, the
 * token) travel with it. `remainder` is an outcome's: a reversal that named no
 * amount records the amount it took, and its body is still the one without.
 */
export type Body = Pick<
  TxMessage,
  'type' | 'amount' | 'requestId' | 'expiresInSeconds' | 'counterparty' | 'transferId' | 'reference' | 'metadata' | 'overdraftLimit' | 'accountStatus' | 'pending'
> & { remainder?: true };

/** The amount the call named: none for a reversal of all that was left, whatever amount that came to. */
function amountNamed(body: Body): number | undefined {
  return body.remainder ? undefined : body.amount;
}

/**
 * Whether a repeat has the first call's body. A hold's time to live is
 * compared only when both carry it: outcomes remembered before it was part of
 * the body (and messages from an api that did not send it) compare as before.
 */
export function sameBody(first: Body, again: Body): boolean {
  if (first.type !== again.type || amountNamed(first) !== amountNamed(again) || first.requestId !== again.requestId) return false;
  if (extrasText(first) !== extrasText(again)) return false;
  const { expiresInSeconds: firstTtl } = first;
  const { expiresInSeconds: againTtl } = again;
  return firstTtl === undefined || againTtl === undefined || firstTtl === againTtl;
}

/** A digest is 20 lower-case hex digits: 12 of the body without its time to live, 8 of the whole body. */
export const BODY_DIGEST_PATTERN = '^[0-9a-f]{20}$';
const CORE_DIGITS = 12;
const WHOLE_DIGITS = 8;

/**
 * A short digest of a body, in two parts so that it compares as `sameBody`
 * does: without the time to live, and with it, for a recorded outcome that
 * carries one. Not a secret: anyone who may read the transaction may read its
 * body, so the digest tells nothing more.
 */
export function bodyDigest(body: Body): string {
  return hex(coreOf(body), CORE_DIGITS) + hex(wholeOf(body), WHOLE_DIGITS);
}

/** Whether `digest` (of a call's body) names the body of the recorded decision. */
export function digestMatches(digest: string, recorded: Body): boolean {
  if (digest.slice(0, CORE_DIGITS) !== hex(coreOf(recorded), CORE_DIGITS)) return false;
  return recorded.expiresInSeconds === undefined || digest.slice(CORE_DIGITS) === hex(wholeOf(recorded), WHOLE_DIGITS);
}

function coreOf(body: Body): string {
  const core = `${body.type}|${amountNamed(body) ?? ''}|${body.requestId ?? ''}`;
  // Appended only when there are extras, so a body without them digests as it always did.
  const extras = extrasText(body);
  return extras === '' ? core : `${core}|${extras}`;
}

/**
 * The members a transfer (two-phase or not), a settings change, a reference or metadata add to a
 * body, as one canonical text: metadata keys sorted, so that the same labels
 * in another order are the same body. Empty when there are none.
 */
export function extrasText(body: Body): string {
  const { transferId, reference, metadata, overdraftLimit, accountStatus, pending } = body;
  // A post's counterparty is the one its pending transfer holds, which its owner records: not the caller's to name.
  const counterparty = body.type === 'transfer_post' ? undefined : body.counterparty;
  if ([counterparty, transferId, reference, metadata, overdraftLimit, accountStatus, pending].every((value) => value === undefined)) return '';
  const sortedMetadata = metadata === undefined ? null : Object.keys(metadata).sort().map((key) => [key, metadata[key]]);
  const extras: unknown[] = [counterparty ?? null, transferId ?? null, reference ?? null, sortedMetadata, overdraftLimit ?? null, accountStatus ?? null];
  // Appended only for a two-phase transfer, so every other body's text is what it always was.
  if (pending !== undefined) extras.push(pending);
  return JSON.stringify(extras);
}

function wholeOf(body: Body): string {
  return `${coreOf(body)}|${body.expiresInSeconds ?? ''}`;
}

function hex(text: string, digits: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, digits);
}

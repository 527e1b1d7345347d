// How a transaction's result becomes an HTTP answer: 200/201/402 carry the
// ledger's decision, 202 means durable in Kafka with the decision to follow.
// One function answers both the compatibility route (POST /transaction) and
// the v1 writes; v1 adds what its resources need, as `ReplyStyle` says.
import type { FastifyReply } from 'fastify';
import {
  createError,
  TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY,
  TELLER_ERR_NOT_REVERSIBLE,
  TELLER_ERR_ORIGINAL_NOT_FOUND,
  TELLER_ERR_REQUEST_NOT_HELD,
} from '../common/errors.js';
import type { Outcome } from '../common/types.js';
import type { SubmitResult, TxRequest } from './submit.js';

export interface ReplyStyle {
  /**
   * v1's additions: the transaction's URL (Location) on every answer, not only
   * on a 202; `Idempotent-Replayed: true` on a repeat; `decidedAt` in a
   * decision. The compatibility route answers without them.
   */
  v1: boolean;
  /** The client asked for 202 at once (Prefer: respond-async): the 202 says the preference was applied. */
  respondAsync: boolean;
}

/**
 * The transaction's URL. With the digest of the call's body it is the URL of
 * that call's decision: once another call's body is decided under the id,
 * it answers 409 instead of that other call's outcome.
 */
export function transactionLocation(id: string, bodyDigest?: string): string {
  const url = `/v1/transactions/${encodeURIComponent(id)}`;
  return bodyDigest === undefined ? url : `${url}?body=${bodyDigest}`;
}

export function statusFor(outcome: Outcome): number {
  switch (outcome.status) {
    case 'approved':
      return 201;
    case 'denied':
    case 'cancelled':
    case 'expired':
      return 402;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'applied':
    case 'posted':
      return 200;
    case 'voided':
      return 402;
  }
}

export function outcomeBody(o: Outcome): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: o.id,
    accountId: o.accountId,
    type: o.type,
    amount: o.amount,
    status: o.status,
    balance: o.balance,
    reserved: o.reserved,
  };
  if (o.requestId !== undefined) body.requestId = o.requestId;
  if (o.reason !== undefined) body.reason = o.reason;
  if (o.overdraft) body.overdraft = true;
  if (o.replayed) body.replayed = true;
  return body;
}

/** The members a write adds to its answer when it carries them (docs/transfers.md), and an original's total reversed: v1 answers them. */
const V1_EXTRAS = ['reference', 'metadata', 'counterparty', 'transferId', 'overdraftLimit', 'accountStatus', 'reversed'] as const;

/** The v1 extras `source` carries, to spread into an answer. */
export function extrasOf(source: Partial<Pick<Outcome, (typeof V1_EXTRAS)[number]>>): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  for (const key of V1_EXTRAS) if (source[key] !== undefined) extras[key] = source[key];
  return extras;
}

/** A decision as v1 returns it, here and at GET /v1/transactions/:id. */
export function v1Body(o: Outcome): Record<string, unknown> {
  return { ...outcomeBody(o), ...extrasOf(o), decidedAt: new Date(o.decidedAt).toISOString() };
}

/** Answers a submitted transaction; a conflict, a cancel that found no hold or a reversal that found nothing to reverse is thrown as its TellerError. */
export function sendResult(reply: FastifyReply, tx: TxRequest, result: SubmitResult, style: ReplyStyle): FastifyReply {
  const location = transactionLocation(tx.id);
  const extras = style.v1 ? extrasOf(tx) : {};
  switch (result.kind) {
    case 'accepted':
      if (style.respondAsync) reply.header('preference-applied', 'respond-async');
      return reply
        .code(202)
        .header('location', transactionLocation(tx.id, result.bodyDigest))
        .send({ id: tx.id, accountId: tx.accountId, type: tx.type, amount: tx.amount, requestId: tx.requestId, ...extras, status: 'pending' });
    case 'timed_out':
      if (style.v1) reply.header('location', location);
      return reply
        .code(402)
        .send({ id: tx.id, accountId: tx.accountId, type: tx.type, amount: tx.amount, ...extras, status: 'denied', reason: 'timeout' });
    case 'decided':
      return sendDecision(reply, result.outcome, location, style);
  }
}

function sendDecision(reply: FastifyReply, o: Outcome, location: string, style: ReplyStyle): FastifyReply {
  if (o.status === 'conflict') throw createError(TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, { id: o.id });
  if (o.status === 'not_found' && o.type === 'cancel') throw createError(TELLER_ERR_REQUEST_NOT_HELD, { requestId: o.requestId });
  if (o.status === 'not_found' && o.type === 'reversal') throw createError(o.reason === 'not_reversible' ? TELLER_ERR_NOT_REVERSIBLE : TELLER_ERR_ORIGINAL_NOT_FOUND, { requestId: o.requestId });
  if (!style.v1) return reply.code(statusFor(o)).send(outcomeBody(o));
  // As Stripe does: a repeat is marked, so a client can tell its retry from a first answer.
  if (o.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(statusFor(o)).header('location', location).send(v1Body(o));
}

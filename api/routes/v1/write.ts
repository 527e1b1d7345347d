// What every v1 write shares: the transaction id (body or Idempotency-Key),
// the Prefer header, and the answer. The submitter (api/submit.ts) does the
// work; this only maps HTTP onto it.
import type { FastifyReply } from 'fastify';
import { createError, TELLER_ERR_ID_MISMATCH, TELLER_ERR_ID_REQUIRED, TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, TELLER_ERR_REQUEST_NOT_HELD } from '../../../common/errors.js';
import type { Outcome } from '../../../common/types.js';
import { outcomeBody, statusFor, transactionLocation } from '../../reply.js';
import type { TransactionSubmitter, TxRequest } from '../../submit.js';

export interface WriteHeaders {
  'idempotency-key'?: string;
  prefer?: string;
}

/** The id from the body, else from Idempotency-Key; both given and different is a client error. */
export function transactionId(bodyId: string | undefined, headers: WriteHeaders): string {
  const key = headers['idempotency-key'];
  if (bodyId !== undefined && key !== undefined && bodyId !== key) throw createError(TELLER_ERR_ID_MISMATCH);
  const id = bodyId ?? key;
  if (id === undefined) throw createError(TELLER_ERR_ID_REQUIRED);
  return id;
}

/** RFC 7240: preferences are comma-separated, each `token[=value][; params]`, tokens case-insensitive. */
export function prefersAsync(prefer: string | undefined): boolean {
  if (prefer === undefined) return false;
  return prefer.split(',').some((p) => p.split(/[;=]/)[0]!.trim().toLowerCase() === 'respond-async');
}

export function v1Body(o: Outcome): Record<string, unknown> {
  return { ...outcomeBody(o), decidedAt: new Date(o.decidedAt).toISOString() };
}

/**
 * Submits and answers: with `Prefer: respond-async`, 202 once Kafka holds the
 * message; otherwise the ledger's decision (or 202 if it is late, or 402 for a
 * withdrawal request that is late: the contract's rules).
 */
export async function submitAndReply(submitter: TransactionSubmitter, reply: FastifyReply, tx: TxRequest, headers: WriteHeaders): Promise<FastifyReply> {
  const async = prefersAsync(headers.prefer);
  const result = await submitter.submit(tx, { wait: !async });
  const location = transactionLocation(tx.id);
  switch (result.kind) {
    case 'accepted':
      if (async) reply.header('preference-applied', 'respond-async');
      return reply
        .code(202)
        .header('location', location)
        .send({ id: tx.id, accountId: tx.accountId, type: tx.type, amount: tx.amount, requestId: tx.requestId, status: 'pending' });
    case 'timed_out':
      return reply.code(402).header('location', location).send({
        id: tx.id,
        accountId: tx.accountId,
        type: tx.type,
        amount: tx.amount,
        status: 'denied',
        reason: 'timeout',
      });
    case 'decided': {
      const o = result.outcome;
      if (o.status === 'conflict') throw createError(TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, { id: o.id });
      if (o.status === 'not_found' && o.type === 'cancel') throw createError(TELLER_ERR_REQUEST_NOT_HELD, { requestId: o.requestId });
      // As Stripe does: a repeat is marked, so a client can tell its retry from a first answer.
      if (o.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(statusFor(o)).header('location', location).send(v1Body(o));
    }
  }
}

// What every v1 write shares: the transaction id (body or Idempotency-Key),
// the Prefer header, and the answer. The submitter (api/submit.ts) does the
// work and api/reply.ts shapes the answer; this only maps HTTP onto them.
import type { FastifyReply } from 'fastify';
import { createError, TELLER_ERR_ID_MISMATCH, TELLER_ERR_ID_REQUIRED } from '../../../common/errors.js';
import { sendResult } from '../../reply.js';
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

/**
 * Submits and answers: with `Prefer: respond-async`, 202 once Kafka holds the
 * message; otherwise the ledger's decision (or 202 if it is late, or 402 for a
 * withdrawal request that is late: the contract's rules).
 */
export async function submitAndReply(submitter: TransactionSubmitter, reply: FastifyReply, tx: TxRequest, headers: WriteHeaders): Promise<FastifyReply> {
  const respondAsync = prefersAsync(headers.prefer);
  const result = await submitter.submit(tx, { wait: !respondAsync });
  return sendResult(reply, tx, result, { v1: true, respondAsync });
}

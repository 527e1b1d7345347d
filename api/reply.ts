// How a transaction's result becomes an HTTP answer: 200/201/402 carry the
// ledger's decision, 202 means durable in Kafka with the decision to follow.
import type { FastifyReply } from 'fastify';
import { createError, TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, TELLER_ERR_REQUEST_NOT_HELD } from '../common/errors.js';
import type { Outcome } from '../common/types.js';
import type { SubmitResult, TxRequest } from './submit.js';

export function transactionLocation(id: string): string {
  return `/v1/transactions/${encodeURIComponent(id)}`;
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
      return 200;
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

export function sendResult(reply: FastifyReply, tx: TxRequest, result: SubmitResult): FastifyReply {
  switch (result.kind) {
    case 'decided': {
      const o = result.outcome;
      if (o.status === 'conflict') throw createError(TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, { id: o.id });
      if (o.status === 'not_found' && o.type === 'cancel') throw createError(TELLER_ERR_REQUEST_NOT_HELD, { requestId: o.requestId });
      return reply.code(statusFor(o)).send(outcomeBody(o));
    }
    case 'accepted':
      return reply
        .code(202)
        .header('location', transactionLocation(tx.id))
        .send({ id: tx.id, accountId: tx.accountId, type: tx.type, amount: tx.amount, status: 'pending' });
    case 'timed_out':
      return reply
        .code(402)
        .send({ id: tx.id, accountId: tx.accountId, type: tx.type, amount: tx.amount, status: 'denied', reason: 'timeout' });
  }
}

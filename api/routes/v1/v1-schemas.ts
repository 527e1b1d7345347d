// Schemas of the v1 resource API: the route schemas are the one source of the
// OpenAPI document, so descriptions live here beside the constraints.
import { TX_TYPES } from '../../../common/types.js';
import { accountIdSchema, amountSchema, idSchema } from '../../schemas.js';

/** A hold's time to live may be set per request, within a card authorisation's usual bounds. */
export const MAX_EXPIRES_IN_SECONDS = 30 * 24 * 3600;

export const STATUSES = ['pending', 'applied', 'approved', 'denied', 'cancelled', 'expired', 'not_found', 'conflict'] as const;

export const accountParams = {
  type: 'object',
  additionalProperties: false,
  required: ['accountId'],
  properties: { accountId: accountIdSchema },
} as const;

/** Headers of every v1 write: the id may come as Idempotency-Key, and Prefer: respond-async asks for 202 at once. */
export const writeHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      ...idSchema,
      description: 'The transaction id, when the body carries none (the same value, if both are given).',
    },
    prefer: {
      type: 'string',
      maxLength: 256,
      description: 'RFC 7240. `respond-async`: answer 202 as soon as the transaction log holds the call, without waiting for the decision.',
    },
  },
} as const;

export const bodyId = {
  ...idSchema,
  description: 'Client transaction id: the same id again returns the first outcome; with another body it is refused (409). May come as the Idempotency-Key header instead.',
} as const;

export const bodyAmount = { ...amountSchema, description: 'Minor units (cents), a positive safe integer.' } as const;

/** A transaction as v1 returns it: the ledger's decision, or `pending` while it is on its way. */
export const transactionSchema = {
  type: 'object',
  required: ['id', 'accountId', 'status'],
  properties: {
    id: { type: 'string' },
    accountId: { type: 'string' },
    type: { type: 'string', enum: [...TX_TYPES] },
    amount: { type: 'integer' },
    requestId: { type: 'string', description: 'The withdrawal request a withdrawal settled or a cancel released.' },
    status: { type: 'string', enum: [...STATUSES] },
    reason: { type: 'string', enum: ['insufficient_funds', 'id_reused', 'request_not_held', 'timeout', 'balance_out_of_range', 'hold_limit'] },
    overdraft: { type: 'boolean', description: 'The withdrawal took the balance below zero.' },
    replayed: { type: 'boolean', description: 'This answers a repeat of an id already decided.' },
    balance: { type: 'integer', description: 'Balance right after the decision.' },
    reserved: { type: 'integer', description: 'Funds held by withdrawal requests right after the decision.' },
    decidedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export function transactionResponses(success: Record<number, string>) {
  const responses: Record<string, unknown> = {};
  for (const [code, description] of Object.entries(success)) responses[code] = { description, ...transactionSchema };
  return responses;
}

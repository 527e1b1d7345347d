// JSON schemas of the HTTP api. Ajv runs them in strict mode without type
// coercion: "10" is not an amount, and unknown fields are refused.
import { ACCOUNT_ID_PATTERN, ID_PATTERN, amountSchema } from '../common/message.js';

export const idSchema = { type: 'string', minLength: 1, maxLength: 128, pattern: ID_PATTERN } as const;
export const accountIdSchema = { type: 'string', minLength: 1, maxLength: 64, pattern: ACCOUNT_ID_PATTERN } as const;
export { amountSchema };

export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
} as const;

/** The decided transaction, as the compatibility contract returns it. */
export const outcomeBodySchema = {
  type: 'object',
  required: ['id', 'accountId', 'type', 'status'],
  properties: {
    id: { type: 'string' },
    accountId: { type: 'string' },
    type: { type: 'string' },
    amount: { type: 'integer' },
    requestId: { type: 'string' },
    status: { type: 'string' },
    reason: { type: 'string' },
    overdraft: { type: 'boolean' },
    replayed: { type: 'boolean' },
    balance: { type: 'integer' },
    reserved: { type: 'integer' },
  },
} as const;

/** Ajv options for every route schema (Fastify's defaults coerce types and strip unknown fields). */
export const ajvOptions = {
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  allErrors: true,
  strict: true,
} as const;

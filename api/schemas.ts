// JSON schemas of the HTTP api. Ajv runs them in strict mode without type
// coercion: "10" is not an amount, and unknown fields are refused.
import { ACCOUNT_ID_PATTERN, ID_PATTERN, amountSchema } from '../common/message.js';

export const idSchema = { type: 'string', minLength: 1, maxLength: 128, pattern: ID_PATTERN } as const;
export const accountIdSchema = { type: 'string', minLength: 1, maxLength: 64, pattern: ACCOUNT_ID_PATTERN } as const;
export { amountSchema };

export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  // Extensions (retryAfter, checks) are part of the problem; the serializer would drop undeclared ones.
  additionalProperties: true,
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
} as const;

/** Error responses of every route: problem+json, so the OpenAPI document names the media type. */
export const problemResponses = {
  '4xx': { description: 'Refused; nothing was applied (RFC 9457 problem)', content: { 'application/problem+json': { schema: problemSchema } } },
  '5xx': {
    description: 'Unavailable; nothing was applied and a retry with the same id is safe (RFC 9457 problem)',
    content: { 'application/problem+json': { schema: problemSchema } },
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

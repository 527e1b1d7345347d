// JSON schemas of the HTTP api. Ajv runs them in strict mode without type
// coercion: "10" is not an amount, and unknown fields are refused.
import { ACCOUNT_ID_PATTERN, ID_PATTERN, SYSTEM_ID_PATTERN, amountSchema } from '../common/message.js';

/**
 * What a client may name a transaction or an account: the message patterns,
 * less the names made only of dots. `.` and `..` are dot segments in a URL, so
 * the links built from them (`Location`, a statement's `Link`) would resolve to
 * another path. The message schema keeps its own patterns, so records already
 * in the log still replay (docs/ledger-rules.md).
 */
const notOnlyDots = (pattern: string) => `^(?!\\.+$)${pattern.slice(1)}`;
export const CLIENT_ID_PATTERN = notOnlyDots(ID_PATTERN);
export const CLIENT_ACCOUNT_ID_PATTERN = notOnlyDots(ACCOUNT_ID_PATTERN);

export const idSchema = { type: 'string', minLength: 1, maxLength: 128, pattern: CLIENT_ID_PATTERN } as const;
export const accountIdSchema = { type: 'string', minLength: 1, maxLength: 64, pattern: CLIENT_ACCOUNT_ID_PATTERN } as const;
/**
 * An id to look up: a client's, or one the system minted (a transfer's credit
 * or return, a settings change, a timeout's cancel), which statements show and
 * a settings change's Location names. Reads only: writes take `idSchema`.
 */
export const lookupIdSchema = { type: 'string', minLength: 1, maxLength: 240, pattern: notOnlyDots(SYSTEM_ID_PATTERN) } as const;
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

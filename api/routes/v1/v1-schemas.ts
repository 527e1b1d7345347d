// Schemas of the v1 resource API: the route schemas are the one source of the
// OpenAPI document, so descriptions live here beside the constraints.
import { METADATA_MAX_KEYS, METADATA_VALUE_MAX_LENGTH, metadataSchema, referenceSchema } from '../../../common/message.js';
import { ACCOUNT_STATUSES, TX_REASONS, TX_TYPES, type Metadata } from '../../../common/types.js';
import { accountIdSchema, amountSchema, idSchema } from '../../schemas.js';

/** A hold's time to live may be set per request, within a card authorisation's usual bounds. */
export const MAX_EXPIRES_IN_SECONDS = 30 * 24 * 3600;

export const STATUSES = ['pending', 'applied', 'approved', 'denied', 'cancelled', 'expired', 'not_found', 'conflict', 'posted', 'voided'] as const;

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

/** What every v1 write may carry beside its own fields (docs/transfers.md): both are part of the body an id is judged by. */
export const labelProperties = {
  reference: { ...referenceSchema, description: "The client's external id for the write: 1 to 128 characters, no control characters." },
  metadata: {
    ...metadataSchema,
    description: `The client's labels: at most ${METADATA_MAX_KEYS} keys of 1 to 64 letters, digits, \`_\`, \`.\` or \`-\`, each with a string of at most ${METADATA_VALUE_MAX_LENGTH} characters.`,
  },
} as const;

/** The body members of `labelProperties`, as a route's body type has them. */
export interface Labels {
  reference?: string;
  metadata?: Metadata;
}

/** The labels a body carries, to put into its TxRequest. */
export function labelsOf(body: Labels): Labels {
  const labels: Labels = {};
  if (body.reference !== undefined) labels.reference = body.reference;
  if (body.metadata !== undefined) labels.metadata = body.metadata;
  return labels;
}

/** An answer's metadata: declared, or the serializer would drop it. */
const answeredMetadata = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** Every reason a decision may give. */
export const REASONS = TX_REASONS;

/** The members a decision carries beside its core, in answers, lookups and statements. */
export const extraProperties = {
  reference: { type: 'string' },
  metadata: answeredMetadata,
  counterparty: { type: 'string', description: "Of a transfer's leg: the other account." },
  transferId: { type: 'string', description: "Of a transfer's credit or return: the transfer's id." },
  overdraftLimit: { type: 'integer', description: 'Of a settings change: the overdraft limit asked for.' },
  accountStatus: { type: 'string', enum: [...ACCOUNT_STATUSES], description: 'Of a settings change: the status asked for.' },
  reversed: { type: 'integer', description: 'Of an applied deposit, withdrawal or transfer credit: the total its reversals took back so far.' },
} as const;

/** A transaction as v1 returns it: the ledger's decision, or `pending` while it is on its way. */
export const transactionSchema = {
  type: 'object',
  required: ['id', 'accountId', 'status'],
  properties: {
    id: { type: 'string' },
    accountId: { type: 'string' },
    type: { type: 'string', enum: [...TX_TYPES] },
    amount: { type: 'integer' },
    requestId: { type: 'string', description: 'The withdrawal request a withdrawal settled or a cancel released; the transaction a reversal undid.' },
    status: { type: 'string', enum: [...STATUSES] },
    reason: { type: 'string', enum: [...REASONS] },
    overdraft: { type: 'boolean', description: 'The withdrawal took the balance below zero.' },
    replayed: { type: 'boolean', description: 'This answers a repeat of an id already decided.' },
    balance: { type: 'integer', description: 'Balance right after the decision.' },
    reserved: { type: 'integer', description: 'Funds held by withdrawal requests right after the decision.' },
    decidedAt: { type: 'string', format: 'date-time' },
    ...extraProperties,
  },
} as const;

export function transactionResponses(success: Record<number, string>) {
  const responses: Record<string, unknown> = {};
  for (const [code, description] of Object.entries(success)) responses[code] = { description, ...transactionSchema };
  return responses;
}

// The message schema both sides import: the api encodes with it, the consumer
// validates every record against it and dead-letters what does not conform.
import { Ajv, type ValidateFunction } from 'ajv';
import { ACCOUNT_STATUSES, TX_TYPES, type LogMessage, type TxMessage } from './types.js';

export const ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';
export const ACCOUNT_ID_PATTERN = '^[A-Za-z0-9._:-]{1,64}$';
/** Ids the system mints itself (e.g. the cancel after a timeout) use `~`, which clients cannot. */
export const SYSTEM_ID_PATTERN = '^[A-Za-z0-9._:~-]{1,240}$';

/** A client's external id for a write: 1 to 128 characters, none of them a control character. */
export const REFERENCE_PATTERN = '^[^\\u0000-\\u001f\\u007f]{1,128}$';
/**
 * Metadata keys become field names of the ledger document: no `.` (FerretDB
 * refuses a key holding one, and MongoDB cannot filter on it) and no `$`.
 */
export const METADATA_KEY_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const METADATA_MAX_KEYS = 16;
export const METADATA_VALUE_MAX_LENGTH = 256;

export const referenceSchema = { type: 'string', pattern: REFERENCE_PATTERN } as const;
export const metadataSchema = {
  type: 'object',
  maxProperties: METADATA_MAX_KEYS,
  propertyNames: { pattern: METADATA_KEY_PATTERN },
  additionalProperties: { type: 'string', maxLength: METADATA_VALUE_MAX_LENGTH },
} as const;

/** A call's token: the waiter's random prefix and its counter (api/waiter.ts). */
export const CALL_ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

/**
 * A client's claimed time as the ledger keeps it (`Date#toISOString`): UTC to
 * the millisecond, with six signed digits for a year outside 0 to 9999.
 */
export const CLIENT_TIMESTAMP_PATTERN = '^(\\d{4}|[+-]\\d{6})-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';

export const amountSchema = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
const epochMs = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

const txSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'id', 'type', 'accountId', 'receivedAt'],
  properties: {
    v: { const: 1 },
    id: { type: 'string', pattern: SYSTEM_ID_PATTERN },
    type: { enum: [...TX_TYPES] },
    accountId: { type: 'string', pattern: ACCOUNT_ID_PATTERN },
    amount: amountSchema,
    // A client's id, but a reversal's may name a transfer's credit, whose id the owners minted (see below).
    requestId: { type: 'string', pattern: SYSTEM_ID_PATTERN },
    expiresAt: epochMs,
    expiresInSeconds: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    holdLimit: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    answerBy: epochMs,
    receivedAt: epochMs,
    replyTo: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
    callId: { type: 'string', pattern: CALL_ID_PATTERN },
    creditCallId: { type: 'string', pattern: CALL_ID_PATTERN },
    counterparty: { type: 'string', pattern: ACCOUNT_ID_PATTERN },
    transferId: { type: 'string', pattern: ID_PATTERN },
    pending: { const: true },
    reference: referenceSchema,
    metadata: metadataSchema,
    overdraftLimit: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    accountStatus: { enum: [...ACCOUNT_STATUSES] },
    clientTimestamp: { type: 'string', pattern: CLIENT_TIMESTAMP_PATTERN },
  },
  allOf: [
    // Ajv's strict mode (strictRequired) wants every required name declared beside it;
    // `amount: false` says a cancel or a settings change carries no amount.
    {
      if: { properties: { type: { enum: ['cancel', 'account_settings', 'transfer_void'] } } },
      then: { properties: { amount: false } },
      // A reversal without an amount reverses all that is left of its original, and a post without
      // one posts the whole pending amount (docs/transfers.md).
      else: { if: { properties: { type: { enum: ['reversal', 'transfer_post'] } } }, else: { required: ['amount'], properties: { amount: true } } },
    },
    { if: { properties: { type: { enum: ['cancel', 'transfer_post', 'transfer_void'] } } }, then: { required: ['requestId'], properties: { requestId: true } } },
    // A reversal names its original, which may be a transfer's credit (docs/transfers.md, Reversals); every other requestId is a client's id.
    {
      if: { properties: { type: { const: 'reversal' } } },
      then: { required: ['requestId'], properties: { requestId: true } },
      else: { properties: { requestId: { type: 'string', pattern: ID_PATTERN } } },
    },
    { if: { properties: { type: { const: 'transfer' } } }, else: { properties: { pending: false } } },
    {
      if: { properties: { type: { const: 'account_settings' } } },
      then: { anyOf: [{ required: ['overdraftLimit'], properties: { overdraftLimit: true } }, { required: ['accountStatus'], properties: { accountStatus: true } }] },
      else: { properties: { overdraftLimit: false, accountStatus: false } },
    },
    {
      if: { properties: { type: { enum: ['transfer', 'transfer_credit', 'transfer_return'] } } },
      then: { required: ['counterparty'], properties: { counterparty: true } },
      else: { properties: { counterparty: false } },
    },
    // The call's token for the credit: a transfer's, or a post's, which mints the credit of a pending transfer.
    { if: { properties: { type: { enum: ['transfer', 'transfer_post'] } } }, else: { properties: { creditCallId: false } } },
    {
      if: { properties: { type: { enum: ['transfer_credit', 'transfer_return'] } } },
      then: { required: ['transferId'], properties: { transferId: true } },
      else: { properties: { transferId: false } },
    },
  ],
} as const;

const tickSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'type', 'receivedAt'],
  properties: { v: { const: 1 }, type: { const: 'tick' }, receivedAt: epochMs },
} as const;

const clockSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'type', 'source', 'receivedAt'],
  properties: { v: { const: 1 }, type: { const: 'clock' }, source: { const: 'log-append-time' }, receivedAt: epochMs },
} as const;

const ajv = new Ajv({ strict: true, allErrors: false, coerceTypes: false, strictTuples: false });
const validateTx = ajv.compile(txSchema);
/** The messages the consumers publish themselves, by type; any other type is a transaction's. */
const validateControl = new Map<unknown, ValidateFunction>([
  ['tick', ajv.compile(tickSchema)],
  ['clock', ajv.compile(clockSchema)],
]);

export type ParseResult = { ok: true; msg: LogMessage } | { ok: false; reason: string };

/** Decodes and validates one record value; never throws. */
export function parseMessage(value: Buffer | string | null | undefined): ParseResult {
  if (value === null || value === undefined) return { ok: false, reason: 'empty value' };
  let data: unknown;
  try {
    data = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
  const validate = validateControl.get(type) ?? validateTx;
  if (validate(data)) return { ok: true, msg: data as LogMessage };
  const e = validate.errors?.[0];
  return { ok: false, reason: `schema: ${e?.instancePath || '/'} ${e?.message ?? 'invalid'}` };
}

/** A client's transaction, not a message the consumers publish to move the clock (a tick, a clock marker). */
export function isTransaction(msg: LogMessage): msg is TxMessage {
  return msg.type !== 'tick' && msg.type !== 'clock';
}

export function encodeMessage(msg: LogMessage): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

/**
 * The partition of an account. The producer sets partitions explicitly with
 * this function so that the api can tell which partition owns an account
 * (read-model readiness is tracked per partition). FNV-1a, 32 bit.
 */
export function partitionOf(accountId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    h ^= accountId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

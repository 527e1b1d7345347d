// Schemas of the webhook routes (api/routes/v1/webhooks.ts), the one source of
// their part of the OpenAPI document, and the views of the stored documents
// (common/webhooks.ts) the routes answer with.
import { LEDGER_EVENT_TYPES } from '../../../common/events.js';
import { ENDPOINT_ID_PATTERN, MAX_URL_LENGTH, type WebhookDeadLetterDoc, type WebhookEndpointDoc } from '../../../common/webhooks.js';
import { accountIdSchema } from '../../schemas.js';

export const endpointIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: ENDPOINT_ID_PATTERN,
  description: "The endpoint's id, chosen by the client: letters, digits, `.`, `_`, `-`. The same id and body again answers the endpoint; another body is refused (409), and so is the id of an endpoint since deleted.",
} as const;

export const endpointParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: endpointIdSchema } } as const;

const eventTypesSchema = {
  type: 'array',
  minItems: 1,
  maxItems: LEDGER_EVENT_TYPES.length,
  uniqueItems: true,
  items: { type: 'string', enum: [...LEDGER_EVENT_TYPES] },
  description: 'The event types to receive (docs/events.md); absent: every type, those named later included.',
} as const;

export const registrationBody = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url'],
  properties: {
    id: endpointIdSchema,
    url: { type: 'string', minLength: 1, maxLength: MAX_URL_LENGTH, description: 'Where events are posted: an absolute http or https URL, without credentials or fragment.' },
    eventTypes: eventTypesSchema,
    accountId: { ...accountIdSchema, description: "Only this account's events; absent: every account's." },
  },
} as const;

const endpointProperties = {
  id: { type: 'string' },
  url: { type: 'string' },
  eventTypes: { type: 'array', items: { type: 'string' }, description: 'Absent: every type.' },
  accountId: { type: 'string', description: "Absent: every account's events." },
  startOffsets: {
    type: 'array',
    items: { type: 'integer' },
    description: "Each events partition's end offset at registration, by partition number: the endpoint receives the events from there on.",
  },
  createdAt: { type: 'string', format: 'date-time' },
} as const;

export const endpointSchema = { type: 'object', required: ['id', 'url', 'startOffsets', 'createdAt'], properties: endpointProperties } as const;

export const registeredSchema = {
  type: 'object',
  required: [...endpointSchema.required, 'secret'],
  properties: {
    ...endpointProperties,
    secret: {
      type: 'string',
      description: 'The signing secret, `whsec_<base64>` (Standard Webhooks): given by the registration and its repeats only, never by a read.',
    },
  },
} as const;

export const deadLetterSchema = {
  type: 'object',
  required: ['eventId', 'accountId', 'type', 'event', 'attempts', 'lastError', 'firstAttemptAt', 'lastAttemptAt', 'state'],
  properties: {
    eventId: { type: 'string' },
    accountId: { type: 'string' },
    type: { type: 'string' },
    event: { type: 'object', additionalProperties: true, description: 'The event as it was posted (GET /events.schema.json).' },
    attempts: { type: 'integer' },
    lastError: { type: 'string', description: 'What the last attempt got: a status, a timeout, a connection error.' },
    firstAttemptAt: { type: 'string', format: 'date-time' },
    lastAttemptAt: { type: 'string', format: 'date-time' },
    state: { type: 'string', enum: ['dead', 'redeliver'], description: '`redeliver`: marked for the dispatcher to post again.' },
  },
} as const;

export const redeliveryBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    eventIds: {
      type: 'array',
      minItems: 1,
      // The most whose longest ids still fit the default body limit (BODY_LIMIT_BYTES, 16 KiB): a body
      // the document allows must not be refused as too large. More: several calls, or none for all.
      maxItems: 50,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 300, pattern: '^[0-9]+:[0-9]+(:.+)?$' },
      description: 'The dead letters to deliver again, by event id, at most 50 a call; absent: all of the endpoint\'s.',
    },
  },
} as const;

const iso = (ms: number) => new Date(ms).toISOString();

/** An endpoint as the api shows it; the secret only when `withSecret`. */
export function endpointView(doc: WebhookEndpointDoc, withSecret = false): Record<string, unknown> {
  const view: Record<string, unknown> = { id: doc._id, url: doc.url };
  if (doc.eventTypes !== undefined) view.eventTypes = doc.eventTypes;
  if (doc.accountId !== undefined) view.accountId = doc.accountId;
  view.startOffsets = doc.startOffsets;
  view.createdAt = iso(doc.createdAt);
  if (withSecret) view.secret = doc.secret;
  return view;
}

export function deadLetterView(doc: WebhookDeadLetterDoc): Record<string, unknown> {
  return {
    eventId: doc.eventId,
    accountId: doc.accountId,
    type: doc.eventType,
    event: JSON.parse(doc.body) as unknown,
    attempts: doc.attempts,
    lastError: doc.lastError,
    firstAttemptAt: iso(doc.firstAttemptAt),
    lastAttemptAt: iso(doc.lastAttemptAt),
    state: doc.state,
  };
}

// The webhooks contract (docs/webhooks.md): what the api stores when an
// endpoint is registered and what the dispatcher (webhooks/) reads back, the
// dead letters the dispatcher writes and the api lists, and how a delivery is
// signed. Signing follows the Standard Webhooks specification: the headers
// `webhook-id`, `webhook-timestamp` and `webhook-signature`, the signature an
// HMAC-SHA256 over `<id>.<timestamp>.<body>` keyed by the secret's bytes.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { unknownFormat } from './format-version.js';

/** The version of the stored documents this code writes and reads. */
export const WEBHOOKS_FORMAT_VERSION = 1;

export const WEBHOOK_COLLECTIONS = {
  endpoints: 'webhook_endpoints',
  deadLetters: 'webhook_dead_letters',
} as const;

/**
 * The dead letters' indexes: the api lists an endpoint's by `endpointId`, the
 * dispatcher looks for those marked for redelivery by `state`. Each query is
 * an equality on the index's leading field, which is what the embedded
 * database narrows a read by (docs/embedded-database.md).
 */
export const WEBHOOK_DEAD_LETTER_INDEXES = [
  { name: 'endpoint', key: { endpointId: 1 } },
  { name: 'state', key: { state: 1 } },
] as const;

/**
 * An endpoint's id: no `:`, which separates the endpoint from the event in a
 * dead letter's `_id`, and not only dots, which a URL would read as a path segment.
 */
export const ENDPOINT_ID_PATTERN = '^(?!\\.+$)[A-Za-z0-9._-]{1,64}$';

/** An endpoint that is `deleted` stays as a tombstone: its id is spent, so its consumer group's offsets are never taken over by another endpoint. */
export type EndpointState = 'active' | 'deleted';

/** A registered endpoint, `_id` its id (collection `webhook_endpoints`). */
export interface WebhookEndpointDoc {
  _id: string;
  v: typeof WEBHOOKS_FORMAT_VERSION;
  url: string;
  /** The event types it receives; absent: every type, those named later included. */
  eventTypes?: string[];
  /** Only this account's events; absent: every account's. */
  accountId?: string;
  /** `whsec_<base64>`; removed when the endpoint is deleted. */
  secret?: string;
  state: EndpointState;
  /**
   * The end offset of each events partition when the endpoint was created, by
   * partition number: its consumer group starts there, so it receives exactly
   * the events published after its creation. A partition added later starts at 0.
   */
  startOffsets: number[];
  /** Epoch milliseconds. */
  createdAt: number;
  deletedAt?: number;
}

/** `dead`: waits for an operator; `redeliver`: the dispatcher tries it again (POST /v1/webhooks/:id/redeliver). */
export type DeadLetterState = 'dead' | 'redeliver';

/** An event the dispatcher gave up on (collection `webhook_dead_letters`). */
export interface WebhookDeadLetterDoc {
  /** `deadLetterId(endpointId, eventId)`. */
  _id: string;
  v: typeof WEBHOOKS_FORMAT_VERSION;
  endpointId: string;
  eventId: string;
  accountId: string;
  eventType: string;
  /** The event exactly as it is on the topic and as it was posted: what a redelivery posts again. */
  body: string;
  /** Attempts made, redeliveries included. */
  attempts: number;
  /** What the last attempt got: `status 500`, `timeout after 5000 ms`, a connection error. */
  lastError: string;
  /** Epoch milliseconds. */
  firstAttemptAt: number;
  lastAttemptAt: number;
  state: DeadLetterState;
}

export function deadLetterId(endpointId: string, eventId: string): string {
  return `${endpointId}:${eventId}`;
}

/** The consumer group that holds an endpoint's place on the events topic. */
export function consumerGroupOf(endpointId: string): string {
  return `teller-webhooks-${endpointId}`;
}

/** Refuses a stored document in a version this code does not know (a newer Teller wrote it). */
export function checkFormat<Doc extends { v: number; _id: string }>(what: string, doc: Doc): Doc {
  if (doc.v !== WEBHOOKS_FORMAT_VERSION) throw unknownFormat(`${what} ${doc._id}`, doc.v, [WEBHOOKS_FORMAT_VERSION]);
  return doc;
}

/** Whether an endpoint receives an event of `type` on `accountId`. */
export function endpointWants(endpoint: Pick<WebhookEndpointDoc, 'eventTypes' | 'accountId'>, event: { type: string; accountId: string }): boolean {
  if (endpoint.accountId !== undefined && endpoint.accountId !== event.accountId) return false;
  return endpoint.eventTypes === undefined || endpoint.eventTypes.includes(event.type);
}

/** Each partition's end offset (kafkajs's `high`) at its partition number's place: the form of `startOffsets`. */
export function endsByPartition(offsets: readonly { partition: number; high: string }[]): number[] {
  const ends: number[] = new Array<number>(offsets.length).fill(0);
  for (const { partition, high } of offsets) ends[partition] = Number(high);
  return ends;
}

export const MAX_URL_LENGTH = 2048;

/**
 * Why `url` cannot be an endpoint's, or undefined when it can: an absolute
 * http or https URL with a host, no credentials (every listing shows the URL;
 * the signature is what tells the receiver the call is Teller's) and no
 * fragment (never sent).
 */
export function webhookUrlProblem(url: string): string | undefined {
  if (url.length > MAX_URL_LENGTH) return `is longer than ${MAX_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not an absolute URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `has the scheme ${parsed.protocol.slice(0, -1)}; only http and https are delivered to`;
  if (parsed.hostname === '') return 'has no host';
  if (parsed.username !== '' || parsed.password !== '') return 'carries credentials, which every listing would show; the signature authenticates the calls';
  if (url.includes('#')) return 'has a fragment, which is never sent';
  return undefined;
}

// Signing (Standard Webhooks).

export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

export const SECRET_PREFIX = 'whsec_';
/** Bytes of a new secret: the specification asks for 24 to 64. */
export const SECRET_BYTES = 32;
const SIGNATURE_VERSION = 'v1';
/** How far a timestamp may be from the verifier's clock, as the specification's libraries default it. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/** A new secret, `whsec_` and the base64 of SECRET_BYTES random bytes. */
export function newSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The HMAC key a secret stands for: the bytes its base64 part decodes to. */
export function signingKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`a webhook secret starts with ${SECRET_PREFIX}`);
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length < 24) throw new Error('a webhook secret holds at least 24 bytes');
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`: one entry of `webhook-signature`. */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', signingKey(secret)).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64');
  return `${SIGNATURE_VERSION},${digest}`;
}

/** The three headers of one delivery attempt, signed at `nowMs`. */
export function signatureHeaders(secret: string, id: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: sign(secret, id, timestamp, body),
  };
}

export interface VerifyOptions {
  nowMs: number;
  toleranceSeconds?: number;
}

/**
 * What a receiver checks: the headers are there, the timestamp is within the
 * tolerance of its clock, and one of the space-separated `v1,` signatures is
 * the body's (compared in constant time). Undefined when the delivery is
 * authentic, else why not. `body` must be the raw body as received.
 */
export function verifyProblem(secret: string, headers: Record<string, string | string[] | undefined>, body: string, options: VerifyOptions): string | undefined {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header(WEBHOOK_HEADERS.id);
  const timestamp = header(WEBHOOK_HEADERS.timestamp);
  const signatures = header(WEBHOOK_HEADERS.signature);
  if (id === undefined || timestamp === undefined || signatures === undefined) return 'a webhook header is missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'webhook-timestamp is not unix seconds';
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(options.nowMs / 1000 - Number(timestamp)) > tolerance) return `webhook-timestamp is more than ${tolerance} s from now`;
  const expected = Buffer.from(sign(secret, id, Number(timestamp), body).slice(SIGNATURE_VERSION.length + 1), 'base64');
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== SIGNATURE_VERSION || value === undefined) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
  }
  return 'no signature matches';
}

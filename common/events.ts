// The ledger events contract (docs/events.md): every ledger document becomes
// one event on the events topic, keyed by its account. This module holds the
// version, the TypeScript shape, the JSON Schema the api serves at
// /events.schema.json and tests validate with, and the mapping from a
// document to its event. An event is a function of its document alone, and a
// document of the log alone, so a batch decided again publishes the same events.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { decidedAtOf } from './ledger-outcome.js';
import { ACCOUNT_ID_PATTERN, ID_PATTERN, SYSTEM_ID_PATTERN, metadataSchema, referenceSchema } from './message.js';
import { ACCOUNT_STATUSES, TX_REASONS, type AccountStatus, type LedgerDoc, type Metadata, type TxReason, type TxStatus } from './types.js';

export const EVENTS_SCHEMA_VERSION = 1;

/** The statuses a ledger document holds; `cancelled`, `expired`, `posted`, `voided` and `conflict` are answers only, never documents. */
export const DOCUMENT_STATUSES = ['applied', 'approved', 'denied', 'not_found'] as const satisfies readonly TxStatus[];
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/** Every reason a document may give (common/types.ts). */
export const EVENT_REASONS: readonly TxReason[] = TX_REASONS;

/**
 * The event type of each document type and status the rules write
 * (consumer/ledger.ts and the modules it calls). Every document type must
 * have its row, or this does not compile; a status with no name here (the
 * rules never write it) gets the generic `<type>.<status>`, as does a type a
 * later version of the rules adds before this table names it.
 */
export const EVENT_TYPES = {
  deposit: { applied: 'deposit.applied', denied: 'deposit.denied' },
  withdraw_request: { approved: 'withdrawal_request.approved', denied: 'withdrawal_request.denied' },
  withdraw: { applied: 'withdrawal.applied', denied: 'withdrawal.denied' },
  cancel: { applied: 'cancel.applied', not_found: 'cancel.not_found' },
  expire: { applied: 'hold.lapsed' },
  transfer: { applied: 'transfer.debited', approved: 'transfer.pending', denied: 'transfer.denied' },
  transfer_credit: { applied: 'transfer.credited', denied: 'transfer.credit_refused' },
  transfer_return: { applied: 'transfer.returned' },
  account_settings: { applied: 'account.settings_changed', denied: 'account.settings_denied' },
  reversal: { applied: 'reversal.applied', denied: 'reversal.denied', not_found: 'reversal.not_found' },
  transfer_post: { applied: 'transfer.posted', denied: 'transfer.post_denied', not_found: 'transfer.post_not_found' },
  transfer_void: { applied: 'transfer.voided', not_found: 'transfer.void_not_found' },
} as const satisfies { readonly [Type in LedgerDoc['type']]: { readonly [Status in DocumentStatus]?: string } };

type EventTypes = typeof EVENT_TYPES;
/** The event types named today; a subscriber should skip a type it does not know. */
export type LedgerEventType = { [Type in keyof EventTypes]: EventTypes[Type][keyof EventTypes[Type]] }[keyof EventTypes];
export const LEDGER_EVENT_TYPES = Object.values(EVENT_TYPES).flatMap((row) => Object.values(row)) as LedgerEventType[];

/** One ledger document as its subscribers see it (docs/events.md). */
export interface LedgerEvent {
  v: typeof EVENTS_SCHEMA_VERSION;
  /** The document's `_id`, its place in the log: the same on every replay, so subscribers deduplicate by it. */
  eventId: string;
  /** A named type (`LedgerEventType`), or `<document type>.<status>` for one not named yet. */
  type: string;
  accountId: string;
  /** The transaction id the document records (a hold's lapse: `<requestId>~expired`). */
  transactionId: string;
  /**
   * Minor units; 0 for a cancel, a settings change and a void, which move no money. Of a post, the
   * amount it named, 0 when it named none (`postedAmount` is what it moved).
   */
  amount: number;
  status: TxStatus;
  reason?: TxReason;
  /** The account's balance and reserved funds right after the decision. */
  balance: number;
  reserved: number;
  /** When the decision was taken by its partition's log clock, RFC 3339 in UTC. */
  occurredAt: string;
  /** The transaction topic's partition and offset of the message decided. */
  partition: number;
  offset: number;
  requestId?: string;
  counterparty?: string;
  transferId?: string;
  reference?: string;
  metadata?: Metadata;
  overdraft?: true;
  overdraftLimit?: number;
  accountStatus?: AccountStatus;
  /** Of a two-phase transfer's own decision (docs/transfers.md): approved, or denied. */
  pending?: true;
  /** Of an applied post: the amount it debited, and its credit carries. */
  postedAmount?: number;
}

/** The event type of a document's type and status. */
export function eventTypeOf(type: string, status: string): string {
  const row = (EVENT_TYPES as Record<string, Record<string, string> | undefined>)[type];
  return row?.[status] ?? `${type}.${status}`;
}

/** The members copied from the document when present, under the same name. */
const OPTIONAL_MEMBERS = ['requestId', 'counterparty', 'transferId', 'reference', 'overdraftLimit', 'accountStatus', 'pending', 'postedAmount'] as const;

export function eventOf(doc: LedgerDoc): LedgerEvent {
  const event: LedgerEvent = {
    v: EVENTS_SCHEMA_VERSION,
    eventId: doc._id,
    type: eventTypeOf(doc.type, doc.status),
    accountId: doc.accountId,
    transactionId: doc.id,
    amount: doc.amount,
    status: doc.status,
    balance: doc.balanceAfter,
    reserved: doc.reservedAfter,
    occurredAt: new Date(decidedAtOf(doc)).toISOString(),
    partition: doc.partition,
    offset: doc.offset,
  };
  if (doc.reason !== undefined) event.reason = doc.reason;
  for (const key of OPTIONAL_MEMBERS) if (doc[key] !== undefined) Object.assign(event, { [key]: doc[key] });
  // Its own copy: the event is encoded later, and the document goes on to the writer.
  if (doc.metadata !== undefined) event.metadata = { ...doc.metadata };
  if (doc.overdraft) event.overdraft = true;
  return event;
}

const integer = { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER } as const;
const natural = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

/** The event's JSON Schema (draft 2020-12), served at GET /events.schema.json. */
export const LEDGER_EVENT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:teller:ledger-event:1',
  title: 'Teller ledger event, version 1',
  description: 'One ledger document, published to the events topic keyed by accountId (docs/events.md). Deduplicate by eventId.',
  type: 'object',
  additionalProperties: false,
  required: ['v', 'eventId', 'type', 'accountId', 'transactionId', 'amount', 'status', 'balance', 'reserved', 'occurredAt', 'partition', 'offset'],
  properties: {
    v: { const: EVENTS_SCHEMA_VERSION, description: 'The schema version.' },
    eventId: { type: 'string', pattern: '^[0-9]+:[0-9]+(:.+)?$', description: "The ledger document's _id, its place in the log: the same on every replay." },
    type: {
      type: 'string',
      pattern: '^[a-z][a-z_]*\\.[a-z][a-z_]*$',
      description: `What happened. Named today: ${LEDGER_EVENT_TYPES.join(', ')}. A type not named yet reads <document type>.<status>; skip types you do not know.`,
    },
    accountId: { type: 'string', pattern: ACCOUNT_ID_PATTERN },
    transactionId: { type: 'string', pattern: SYSTEM_ID_PATTERN, description: "The transaction's id (a hold's lapse: <requestId>~expired)." },
    amount: { ...natural, description: 'Minor units; 0 for a cancel, a settings change and a void, and for a post that named none (see postedAmount).' },
    status: { enum: [...DOCUMENT_STATUSES] },
    reason: { enum: EVENT_REASONS },
    balance: { ...integer, description: 'The balance right after the decision, minor units.' },
    reserved: { ...natural, description: 'The funds held right after the decision, minor units.' },
    occurredAt: {
      type: 'string',
      format: 'date-time',
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
      description: 'When the decision was taken, by the log clock of its partition (RFC 3339, UTC).',
    },
    partition: { ...natural, description: 'The transaction topic partition of the message decided.' },
    offset: { ...natural, description: 'Its offset there.' },
    requestId: {
      type: 'string',
      pattern: SYSTEM_ID_PATTERN,
      description:
        "The withdrawal request a withdrawal settles, a cancel releases or a lapse released; the pending transfer a post or void ends; the transaction a reversal undoes (a transfer's credit among them, whose id Teller minted).",
    },
    counterparty: { type: 'string', pattern: ACCOUNT_ID_PATTERN, description: "The other account of a transfer's leg." },
    transferId: { type: 'string', pattern: ID_PATTERN, description: "Of a transfer's credit or return: the transfer's id." },
    reference: referenceSchema,
    metadata: metadataSchema,
    overdraft: { const: true, description: 'A withdrawal that took the balance below the overdraft limit.' },
    overdraftLimit: { ...natural, description: 'Of a settings change: the overdraft limit asked for.' },
    accountStatus: { enum: [...ACCOUNT_STATUSES], description: 'Of a settings change: the status asked for.' },
    pending: { const: true, description: "Of a two-phase transfer's own decision: approved (transfer.pending), or denied." },
    postedAmount: { ...natural, description: 'Of an applied post: the amount it debited, which its credit carries.' },
  },
} as const;

let validator: ValidateFunction | undefined;

/** Validates `value` against LEDGER_EVENT_SCHEMA; undefined when it conforms, else why not. */
export function ledgerEventProblem(value: unknown): string | undefined {
  validator ??= compileSchema();
  if (validator(value)) return undefined;
  const e = validator.errors?.[0];
  return `${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`;
}

function compileSchema(): ValidateFunction {
  // `format` is documentation here: the pattern beside it is what is checked.
  const ajv = new Ajv2020({ strict: true, allErrors: false, validateFormats: false });
  return ajv.compile(LEDGER_EVENT_SCHEMA);
}

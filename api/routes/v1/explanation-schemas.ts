// The explanation of a decision as v1 answers it (docs/explanations.md), its
// schema (the OpenAPI document's) and the body built from a replay
// (consumer/explanation.ts).
import { ACCOUNT_STATUSES, TX_TYPES, type LedgerDoc } from '../../../common/types.js';
import type { AccountInputs } from '../../../consumer/explanation.js';
import type { Hold } from '../../../consumer/ledger.js';
import { RULE_NAMES } from '../../../consumer/rule-names.js';
import type { ExplainedDecision } from '../../explanations.js';
import { v1Body } from '../../reply.js';
import { transactionSchema } from './v1-schemas.js';

/** A decision as v1 answers it, or a lapse (`type: expire`, id `<requestId>~expired`). */
const outcomeSchema = {
  ...transactionSchema,
  properties: { ...transactionSchema.properties, type: { type: 'string', enum: [...TX_TYPES, 'expire'] } },
} as const;

const holdSchema = {
  type: 'object',
  required: ['id', 'amount'],
  properties: {
    id: { type: 'string', description: 'The withdrawal request (or pending transfer) holding the funds.' },
    amount: { type: 'integer', description: 'What it still held.' },
    expiresAt: { type: 'string', format: 'date-time', description: 'When it lapses by the log clock; absent: only when settled or cancelled.' },
    counterparty: { type: 'string', description: "A pending transfer's hold: the account its post credits." },
  },
} as const;

const dateTime = { type: 'string', format: 'date-time' } as const;

export const explanationSchema = {
  type: 'object',
  required: ['id', 'accountId', 'partition', 'offset', 'rule', 'outcome', 'matchesLedger', 'account', 'holds', 'lapsedHolds', 'clock', 'replay'],
  properties: {
    id: { type: 'string' },
    accountId: { type: 'string' },
    partition: { type: 'integer' },
    offset: { type: 'integer', description: 'The log offset of the record decided.' },
    record: { type: 'string', description: 'The type of the message at that offset (`tick` when a tick lapsed the hold).' },
    rule: { type: 'string', enum: [...RULE_NAMES], description: 'The row of the outcome tables that decided (docs/explanations.md).' },
    outcome: { description: 'The outcome the replay gave: a repeat marked `replayed`; a lapse as its ledger entry.', ...outcomeSchema },
    matchesLedger: { type: 'boolean', description: "Whether the replay wrote the ledger's document again, member for member; for a repeat or a conflict, that the ledger holds no document at its offset either." },
    account: {
      type: 'object',
      description: 'The account before the decision (after any hold this record lapsed first); for a lapse, before it.',
      required: ['exists', 'balance', 'reserved', 'available', 'overdraftLimit', 'status', 'openHolds'],
      properties: {
        exists: { type: 'boolean', description: 'False for an account no transaction had changed: it reads as empty.' },
        balance: { type: 'integer' },
        reserved: { type: 'integer' },
        available: { type: 'integer', description: '`balance - reserved + overdraftLimit`: what a request may hold or a transfer debit.' },
        overdraftLimit: { type: 'integer' },
        status: { type: 'string', enum: [...ACCOUNT_STATUSES] },
        openHolds: { type: 'integer' },
        updatedAt: { ...dateTime, description: 'Absent for an account never changed.' },
      },
    },
    holds: { type: 'array', items: holdSchema, description: 'The holds the rule read: the one `requestId` names, every request\'s for a withdrawal without one, the one lapsing.' },
    lapsedHolds: { type: 'array', items: holdSchema, description: "The account's holds this record's clock lapsed before its decision." },
    holdLimit: { type: 'integer', description: 'Of a withdrawal request: the most open holds it allowed.' },
    clock: {
      type: 'object',
      required: ['at', 'source'],
      properties: { at: dateTime, source: { type: 'string', enum: ['receivedAt', 'log-append-time'], description: 'What moves the partition\'s clock (docs/ledger-rules.md, The log clock).' } },
    },
    remembered: { description: 'Of a repeat or a conflict: the first outcome of the id, as remembered then.', ...transactionSchema },
    original: { description: 'Of a reversal: the transaction it undoes, as remembered then.', ...transactionSchema },
    recorded: {
      type: 'object',
      description: 'What the ledger holds for the record: the document explained.',
      properties: {
        status: { type: 'string' },
        reason: { type: 'string' },
        amount: { type: 'integer' },
        balanceAfter: { type: 'integer' },
        reservedAfter: { type: 'integer' },
        overdraft: { type: 'boolean' },
      },
    },
    replay: {
      type: 'object',
      required: ['from', 'startOffset', 'records'],
      properties: {
        from: { type: 'string', enum: ['snapshot', 'log-start'], description: 'A snapshot kept at or before the offset, else the log from its start.' },
        startOffset: { type: 'integer', description: "The snapshot's offset (0 from the log's start)." },
        records: { type: 'integer', description: 'Records replayed, the one explained included.' },
      },
    },
  },
} as const;

/** The latest time a date holds: a hold's lapse time past it (2^53 - 1, a hold that never lapses) is no date. */
const LAST_DATE_MS = 8.64e15;

function holdBody(hold: Hold): Record<string, unknown> {
  const body: Record<string, unknown> = { id: hold.id, amount: hold.amount };
  if (hold.expiresAt <= LAST_DATE_MS) body.expiresAt = new Date(hold.expiresAt).toISOString();
  if (hold.counterparty !== undefined) body.counterparty = hold.counterparty;
  return body;
}

function accountBody({ updatedAt, ...account }: AccountInputs): Record<string, unknown> {
  return account.exists ? { ...account, updatedAt: new Date(updatedAt).toISOString() } : account;
}

/** A lapse's ledger entry as an outcome: the hold released, the account after it. */
function lapseBody(doc: LedgerDoc): Record<string, unknown> {
  return { id: doc.id, accountId: doc.accountId, type: doc.type, amount: doc.amount, requestId: doc.requestId, status: doc.status, balance: doc.balanceAfter, reserved: doc.reservedAfter, decidedAt: new Date(doc.receivedAt).toISOString() };
}

export function explanationBody({ explanation: ex, recorded, matchesLedger }: ExplainedDecision): Record<string, unknown> {
  const outcome = ex.lapse ? lapseBody(ex.lapse) : v1Body(ex.outcome!);
  const body: Record<string, unknown> = {
    id: outcome.id,
    accountId: outcome.accountId,
    partition: ex.partition,
    offset: ex.offset,
    record: ex.message.type,
    rule: ex.rule,
    outcome,
    matchesLedger,
    account: accountBody(ex.account),
    holds: ex.holds.map(holdBody),
    lapsedHolds: ex.lapsedHolds.map(holdBody),
    clock: { at: new Date(ex.clock.at).toISOString(), source: ex.clock.source },
    replay: ex.replay,
  };
  if (ex.holdLimit !== undefined) body.holdLimit = ex.holdLimit;
  if (ex.remembered) body.remembered = v1Body(ex.remembered);
  if (ex.original) body.original = v1Body(ex.original);
  if (recorded) {
    const { status, reason, amount, balanceAfter, reservedAfter, overdraft } = recorded;
    body.recorded = { status, reason, amount, balanceAfter, reservedAfter, overdraft };
  }
  return body;
}

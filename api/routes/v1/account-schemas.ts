// An account as v1 shows it: now (GET and PUT /v1/accounts/{accountId}), and
// as it stood at a point of its past (api/account-history.ts), as
// GET /v1/accounts/{accountId}?asOf= and GET /v1/cuts/{cut}/accounts/{accountId}
// show it: the same members, and the ledger entry they are read from.
import { ACCOUNT_STATUSES, LEDGER_DOC_STATUSES, LEDGER_DOC_TYPES, type AccountView } from '../../../common/types.js';
import type { PastAccount } from '../../account-history.js';
import { isoTime } from '../../date-time.js';
import { decidedAtOf } from '../../../common/ledger-outcome.js';

/** The members of an account at any point: now, at a past time, at a cut. */
const accountMembers = {
  accountId: { type: 'string' },
  balance: { type: 'integer', description: 'Minor units; below zero only after an overdraft.' },
  reserved: { type: 'integer', description: 'Held by approved, unsettled withdrawal requests.' },
  available: { type: 'integer', description: 'balance - reserved + overdraftLimit: what a withdrawal request or a transfer can take.' },
  overdraftLimit: { type: 'integer', description: 'How far below zero the available funds may go for an approval (default 0).' },
  status: {
    type: 'string',
    enum: [...ACCOUNT_STATUSES],
    description: '`open` (default); `frozen`: debits refused; `closed`: debits and credits refused.',
  },
} as const;

export const accountSchema = {
  type: 'object',
  required: ['accountId', 'balance', 'reserved', 'available', 'overdraftLimit', 'status'],
  properties: {
    ...accountMembers,
    updatedAt: { type: 'string', format: 'date-time', description: "The transaction log's clock at the last change." },
  },
} as const;

/** The account as v1 shows it: its settings at their defaults when the read model holds none. */
export function accountBody(view: Pick<AccountView, 'accountId' | 'balance' | 'reserved' | 'overdraftLimit' | 'status'>) {
  const overdraftLimit = view.overdraftLimit ?? 0;
  return {
    accountId: view.accountId,
    balance: view.balance,
    reserved: view.reserved,
    available: view.balance - view.reserved + overdraftLimit,
    overdraftLimit,
    status: view.status ?? 'open',
  };
}

const lastEntrySchema = {
  type: 'object',
  description: 'The ledger entry the state is read from: the last of the account by then.',
  required: ['transactionId', 'type', 'status', 'partition', 'offset', 'decidedAt'],
  properties: {
    transactionId: { type: 'string', description: 'Its transaction id (`<requestId>~expired` for a lapsed hold).' },
    type: { type: 'string', enum: [...LEDGER_DOC_TYPES] },
    status: { type: 'string', enum: [...LEDGER_DOC_STATUSES] },
    partition: { type: 'integer', description: 'The partition of the transaction log the account lives in.' },
    offset: { type: 'integer', description: "The entry's offset in that partition." },
    decidedAt: { type: 'string', format: 'date-time', description: "When it was decided, by the partition's log clock." },
  },
} as const;

export const pastAccountSchema = {
  type: 'object',
  required: [...accountSchema.required, 'hadHistory'],
  properties: {
    ...accountMembers,
    hadHistory: {
      type: 'boolean',
      description: 'Whether the ledger held any entry of the account by then; false: the balances are 0 and the settings their defaults.',
    },
    lastEntry: lastEntrySchema,
  },
} as const;

/** The account's members at the point, and its last entry when it had one. */
export function pastAccountBody(accountId: string, past: PastAccount) {
  const body = { ...accountBody({ accountId, ...past }), hadHistory: past.last !== undefined };
  if (past.last === undefined) return body;
  const { last } = past;
  return {
    ...body,
    lastEntry: { transactionId: last.id, type: last.type, status: last.status, partition: last.partition, offset: last.offset, decidedAt: isoTime(decidedAtOf(last)) },
  };
}

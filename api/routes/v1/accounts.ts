// GET /v1/accounts/:accountId: the account's state from the read model.
// PUT /v1/accounts/:accountId: its settings (api/routes/v1/account-settings.ts).
import type { FastifyPluginAsync } from 'fastify';
import { createError, TELLER_ERR_ACCOUNT_NOT_FOUND } from '../../../common/errors.js';
import { ACCOUNT_STATUSES, type AccountView } from '../../../common/types.js';
import type { ReadModel } from '../../readmodel.js';
import { problemResponses } from '../../schemas.js';
import { accountParams } from './v1-schemas.js';

export const accountSchema = {
  type: 'object',
  required: ['accountId', 'balance', 'reserved', 'available', 'overdraftLimit', 'status'],
  properties: {
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

export const accountRoutes: FastifyPluginAsync<{ readModel: Pick<ReadModel, 'account'> }> = async (app, { readModel }) => {
  app.get<{ Params: { accountId: string } }>(
    '/accounts/:accountId',
    {
      schema: {
        tags: ['accounts'],
        summary: "An account's state",
        description: 'Reads what the ledger has decided (read-your-writes after a 2xx). 404 for an account never seen.',
        params: accountParams,
        response: { 200: { description: 'The account', ...accountSchema, required: [...accountSchema.required, 'updatedAt'] }, ...problemResponses },
      },
    },
    async (request) => {
      const { accountId } = request.params;
      const view = await readModel.account(accountId);
      if (!view) throw createError(TELLER_ERR_ACCOUNT_NOT_FOUND, { accountId });
      return { ...accountBody(view), updatedAt: new Date(view.updatedAt).toISOString() };
    },
  );
};

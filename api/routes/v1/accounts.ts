// GET /v1/accounts/:accountId: the account's state from the read model.
import type { FastifyPluginAsync } from 'fastify';
import { createError, TELLER_ERR_ACCOUNT_NOT_FOUND } from '../../../common/errors.js';
import type { ReadModel } from '../../readmodel.js';
import { problemResponses } from '../../schemas.js';
import { accountParams } from './v1-schemas.js';

export const accountSchema = {
  type: 'object',
  required: ['accountId', 'balance', 'reserved', 'available', 'updatedAt'],
  properties: {
    accountId: { type: 'string' },
    balance: { type: 'integer', description: 'Minor units; below zero only after an overdraft.' },
    reserved: { type: 'integer', description: 'Held by approved, unsettled withdrawal requests.' },
    available: { type: 'integer', description: 'balance - reserved: what a withdrawal request can hold.' },
    updatedAt: { type: 'string', format: 'date-time', description: "The transaction log's clock at the last change." },
  },
} as const;

export const accountRoutes: FastifyPluginAsync<{ readModel: Pick<ReadModel, 'account'> }> = async (app, { readModel }) => {
  app.get<{ Params: { accountId: string } }>(
    '/accounts/:accountId',
    {
      schema: {
        tags: ['accounts'],
        summary: "An account's state",
        description: 'Reads what the ledger has decided (read-your-writes after a 2xx). 404 for an account never seen.',
        params: accountParams,
        response: { 200: { description: 'The account', ...accountSchema }, ...problemResponses },
      },
    },
    async (request) => {
      const { accountId } = request.params;
      const view = await readModel.account(accountId);
      if (!view) throw createError(TELLER_ERR_ACCOUNT_NOT_FOUND, { accountId });
      return {
        accountId,
        balance: view.balance,
        reserved: view.reserved,
        available: view.balance - view.reserved,
        updatedAt: new Date(view.updatedAt).toISOString(),
      };
    },
  );
};

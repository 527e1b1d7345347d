// The compatibility contract's read: GET /account/:accountId -> {accountId, balance}.
import type { FastifyPluginAsync } from 'fastify';
import { accountIdSchema, problemResponses } from '../schemas.js';
import type { ReadModel } from '../readmodel.js';

export const compatibilityAccountRoutes: FastifyPluginAsync<{ readModel: Pick<ReadModel, 'account'> }> = async (app, { readModel }) => {
  app.get<{ Params: { accountId: string } }>(
    '/account/:accountId',
    {
      schema: {
        tags: ['compatibility'],
        summary: "An account's balance (0 for an account never seen; the original contract)",
        params: { type: 'object', additionalProperties: false, required: ['accountId'], properties: { accountId: accountIdSchema } },
        response: {
          200: {
            description: 'The balance',
            type: 'object',
            required: ['accountId', 'balance'],
            properties: { accountId: { type: 'string' }, balance: { type: 'integer' } },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { accountId } = request.params;
      const view = await readModel.account(accountId);
      return { accountId, balance: view?.balance ?? 0 };
    },
  );
};

// GET /v1/transactions/:id: where a call stands, by its id (the Location of
// every 201/202). The registry gives the account, the owner's stored outcome
// the decision; registered but not yet decided is `pending`.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createError, TELLER_ERR_TRANSACTION_NOT_FOUND } from '../../../common/errors.js';
import type { ReadModel } from '../../readmodel.js';
import { v1Body } from '../../reply.js';
import { idSchema, problemResponses } from '../../schemas.js';
import { transactionSchema } from './schemas.js';

export interface TransactionRouteOptions {
  readModel: Pick<ReadModel, 'transaction'>;
  /** Whether the caller may see the account's transactions (API keys limited to accounts). */
  mayAccess?: (request: FastifyRequest, accountId: string) => boolean;
}

export const transactionStatusRoutes: FastifyPluginAsync<TransactionRouteOptions> = async (app, { readModel, mayAccess }) => {
  app.get<{ Params: { id: string } }>(
    '/transactions/:id',
    {
      schema: {
        tags: ['transactions'],
        summary: 'A transaction by id',
        description:
          'The decision on a call (as its first answer, with later changes: a request cancelled or expired), or `pending` while it is in the log and not yet decided. Ids are kept for the id window (7 days by default).',
        params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: idSchema } },
        response: { 200: { description: 'The transaction', ...transactionSchema }, ...problemResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const view = await readModel.transaction(id);
      // A key limited to other accounts learns nothing, not even that the id exists.
      if (!view || (mayAccess && !mayAccess(request, view.accountId))) {
        throw createError(TELLER_ERR_TRANSACTION_NOT_FOUND, { id });
      }
      if (!view.outcome) return { id, accountId: view.accountId, status: 'pending' };
      return v1Body(view.outcome);
    },
  );
};

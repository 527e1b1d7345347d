// GET /v1/transactions/:id: where a call stands, by its id (the Location of
// every 201/202). The registry gives the account, the owner's stored outcome
// the decision; registered but not yet decided is `pending`. With `body` (the
// digest a 202's Location carries) it is where one call stands: a decision on
// another body under the id is that call's conflict.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { BODY_DIGEST_PATTERN, digestMatches } from '../../../common/body.js';
import { createError, TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, TELLER_ERR_TRANSACTION_NOT_FOUND } from '../../../common/errors.js';
import type { ReadModel } from '../../readmodel.js';
import { v1Body } from '../../reply.js';
import { idSchema, problemResponses } from '../../schemas.js';
import { transactionSchema } from './v1-schemas.js';

export interface TransactionRouteOptions {
  readModel: Pick<ReadModel, 'transaction'>;
  /** Whether the caller may see the account's transactions (API keys limited to accounts). */
  mayAccess?: (request: FastifyRequest, accountId: string) => boolean;
}

export const transactionStatusRoutes: FastifyPluginAsync<TransactionRouteOptions> = async (app, { readModel, mayAccess }) => {
  app.get<{ Params: { id: string }; Querystring: { body?: string } }>(
    '/transactions/:id',
    {
      schema: {
        tags: ['transactions'],
        summary: 'A transaction by id',
        description:
          'The decision on a call (as its first answer, with later changes: a request cancelled or expired), or `pending` while it is in the log and not yet decided. Ids are kept for the id window (7 days by default).',
        params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: idSchema } },
        querystring: {
          type: 'object',
          properties: {
            body: {
              type: 'string',
              pattern: BODY_DIGEST_PATTERN,
              description:
                "The digest of a call's body, as the Location of a 202 carries it: the decision is answered only if it is that body's; a decision on another body under the id is 409 `id-reused`, the answer that call would have had.",
            },
          },
        },
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
      const { body } = request.query;
      if (body !== undefined && !digestMatches(body, view.outcome)) throw createError(TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, { id });
      return v1Body(view.outcome);
    },
  );
};

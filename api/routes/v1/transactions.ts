// GET /v1/transactions/:id: where a call stands, by its id (the Location of
// every 201/202). The registry gives the account, the owner's stored outcome
// the decision; registered but not yet decided is `pending`; once Redis has
// let the id go, the ledger answers (api/readmodel.ts). With `body` (the
// digest a 202's Location carries) it is where one call stands: a decision on
// another body under the id is that call's conflict.
// GET /v1/accounts/:accountId/transactions/:id is the same, exactly for one
// account: ids are per account, and an id the registry has let go may be
// used on another account.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { BODY_DIGEST_PATTERN, digestMatches } from '../../../common/body.js';
import { createError, TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, TELLER_ERR_TRANSACTION_NOT_FOUND } from '../../../common/errors.js';
import type { ReadModel, TransactionView } from '../../readmodel.js';
import { v1Body } from '../../reply.js';
import { accountIdSchema, lookupIdSchema, problemResponses } from '../../schemas.js';
import { transactionSchema } from './v1-schemas.js';

export interface TransactionRouteOptions {
  readModel: Pick<ReadModel, 'transaction' | 'accountTransaction'>;
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
          'The decision on a call (as its first answer, with later changes: a request cancelled or expired), or `pending` while it is in the log and not yet decided. An id used on several accounts (possible once its first use is past the registry\'s horizon, OUTCOME_TTL_SECONDS) answers its newest decision: `GET /v1/accounts/{accountId}/transactions/{id}` is the exact lookup.',
        params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: lookupIdSchema } },
        querystring,
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
      return answer(view, id, request.query.body);
    },
  );

  app.get<{ Params: { accountId: string; id: string }; Querystring: { body?: string } }>(
    '/accounts/:accountId/transactions/:id',
    {
      schema: {
        tags: ['transactions'],
        summary: 'A transaction by account and id',
        description: 'The decision on a call on this account (as `GET /v1/transactions/{id}` answers it), or `pending` while it is in the log and not yet decided.',
        params: { type: 'object', additionalProperties: false, required: ['accountId', 'id'], properties: { accountId: accountIdSchema, id: lookupIdSchema } },
        querystring,
        response: { 200: { description: 'The transaction', ...transactionSchema }, ...problemResponses },
      },
    },
    async (request) => {
      const { accountId, id } = request.params;
      const view = await readModel.accountTransaction(accountId, id);
      if (!view) throw createError(TELLER_ERR_TRANSACTION_NOT_FOUND, { id });
      return answer(view, id, request.query.body);
    },
  );
};

const querystring = {
  type: 'object',
  properties: {
    body: {
      type: 'string',
      pattern: BODY_DIGEST_PATTERN,
      description:
        "The digest of a call's body, as the Location of a 202 carries it: the decision is answered only if it is that body's; a decision on another body under the id is 409 `id-reused`, the answer that call would have had.",
    },
  },
} as const;

/** The transaction's answer: pending, its decision, or the conflict of the call whose body digest is `body`. */
function answer(view: TransactionView, id: string, body: string | undefined) {
  if (!view.outcome) return { id, accountId: view.accountId, status: 'pending' };
  if (body !== undefined && !digestMatches(body, view.outcome)) throw createError(TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, { id });
  return v1Body(view.outcome);
}

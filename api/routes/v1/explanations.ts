// GET /v1/transactions/:id/explanation and
// GET /v1/accounts/:accountId/transactions/:id/explanation: why a decision
// was what it was, replayed from the log (api/explanations.ts,
// docs/explanations.md). Routed as the lookups of a transaction are
// (api/routes/v1/transactions.ts): by id alone, the id's newest decision of any
// account, or exactly for one account; the account route may also name the
// offset of a repeat or a conflict, which write no document of their own.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Explanations } from '../../explanations.js';
import { accountIdSchema, lookupIdSchema, problemResponses } from '../../schemas.js';
import { explanationBody, explanationSchema } from './explanation-schemas.js';

export interface ExplanationRouteOptions {
  explanations: Pick<Explanations, 'explain'>;
  /** Whether the caller may see the account's transactions (API keys limited to accounts). */
  mayAccess?: (request: FastifyRequest, accountId: string) => boolean;
}

const response = { 200: { description: 'The explanation', ...explanationSchema }, ...problemResponses };
const COST =
  ' A replay reads the log and may decide thousands of records: a replica runs one at a time and queues a few, and answers 503 `explanations-busy` (with Retry-After) past its deadline. 409 `history-gone` when no snapshot kept is old enough and the log no longer holds the records before it.';

export const explanationRoutes: FastifyPluginAsync<ExplanationRouteOptions> = async (app, { explanations, mayAccess }) => {
  app.get<{ Params: { id: string } }>(
    '/transactions/:id/explanation',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Why a transaction was decided as it was',
        description: `The id's newest decision of any account (as GET /v1/transactions/{id} finds it once Redis has let it go), replayed from the log: the rule that decided, the account and holds it read, the log clock, and whether the replay gives the ledger's document again.${COST}`,
        params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: lookupIdSchema } },
        response,
      },
    },
    async (request) => {
      const allowed = (accountId: string) => mayAccess === undefined || mayAccess(request, accountId);
      return explanationBody(await explanations.explain({ id: request.params.id }, allowed));
    },
  );

  app.get<{ Params: { accountId: string; id: string }; Querystring: { offset?: string } }>(
    '/accounts/:accountId/transactions/:id/explanation',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Why a transaction on this account was decided as it was',
        description: `As GET /v1/transactions/{id}/explanation, exactly for one account.${COST}`,
        params: { type: 'object', additionalProperties: false, required: ['accountId', 'id'], properties: { accountId: accountIdSchema, id: lookupIdSchema } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            offset: {
              type: 'string',
              pattern: '^\\d{1,15}$',
              description: "The log offset of a message of this id on this account: explains that message (a repeat answered with the first outcome, a conflict) rather than the id's newest decision.",
            },
          },
        },
        response,
      },
    },
    async (request) => {
      const { accountId, id } = request.params;
      const { offset } = request.query;
      return explanationBody(await explanations.explain(offset === undefined ? { id, accountId } : { id, accountId, offset: Number(offset) }));
    },
  );
};

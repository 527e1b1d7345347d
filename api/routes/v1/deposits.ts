// POST /v1/accounts/:accountId/deposits {id, amount, reference?, metadata?}: balance += amount.
import type { FastifyPluginAsync } from 'fastify';
import { problemResponses } from '../../schemas.js';
import type { TransactionSubmitter } from '../../submit.js';
import { accountParams, bodyAmount, bodyId, labelProperties, labelsOf, transactionResponses, writeHeaders, type Labels } from './v1-schemas.js';
import { submitAndReply, transactionId, type WriteHeaders } from './write.js';

interface Route {
  Params: { accountId: string };
  Body: { id?: string; amount: number } & Labels;
  Headers: WriteHeaders;
}

export const depositRoutes: FastifyPluginAsync<{ submitter: TransactionSubmitter }> = async (app, { submitter }) => {
  app.post<Route>(
    '/accounts/:accountId/deposits',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Deposit into an account',
        description: 'Adds `amount` to the balance; the account comes into being with its first deposit.',
        params: accountParams,
        headers: writeHeaders,
        body: { type: 'object', additionalProperties: false, required: ['amount'], properties: { id: bodyId, amount: bodyAmount, ...labelProperties } },
        response: {
          ...transactionResponses({
            200: 'Applied',
            202: 'Accepted: durable in the transaction log, the decision follows at Location',
            402: 'Denied (balance_out_of_range): the balance would pass 2^53 - 1 minor units either way, the most that is counted exactly',
          }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { accountId } = request.params;
      const id = transactionId(request.body.id, request.headers);
      return submitAndReply(submitter, reply, { id, type: 'deposit', accountId, amount: request.body.amount, ...labelsOf(request.body) }, request.headers);
    },
  );
};

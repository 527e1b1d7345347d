// POST /v1/accounts/:accountId/withdrawals {id, amount, requestId?}: the money
// has left, so the withdrawal always posts (docs/ledger-rules.md); with `requestId`
// it settles exactly that withdrawal request's hold, as a card capture does.
import type { FastifyPluginAsync } from 'fastify';
import { idSchema, problemResponses } from '../../schemas.js';
import type { TransactionSubmitter, TxRequest } from '../../submit.js';
import { accountParams, bodyAmount, bodyId, labelProperties, labelsOf, transactionResponses, writeHeaders, type Labels } from './v1-schemas.js';
import { submitAndReply, transactionId, type WriteHeaders } from './write.js';

interface Route {
  Params: { accountId: string };
  Body: { id?: string; amount: number; requestId?: string } & Labels;
  Headers: WriteHeaders;
}

export const withdrawalRoutes: FastifyPluginAsync<{ submitter: TransactionSubmitter }> = async (app, { submitter }) => {
  app.post<Route>(
    '/accounts/:accountId/withdrawals',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Withdraw from an account',
        description:
          'Always posts: `balance -= amount`, flagged `overdraft` when it takes the balance below zero. Without `requestId` it releases holds oldest first, up to `amount`; with `requestId` it settles exactly that approved withdrawal request (`reason: request_not_held` when that request holds nothing).',
        params: accountParams,
        headers: writeHeaders,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['amount'],
          properties: {
            id: bodyId,
            amount: bodyAmount,
            requestId: { ...idSchema, description: 'The approved withdrawal request this withdrawal settles.' },
            ...labelProperties,
          },
        },
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
      const { amount, requestId } = request.body;
      const tx: TxRequest = { id: transactionId(request.body.id, request.headers), type: 'withdraw', accountId, amount, ...labelsOf(request.body) };
      if (requestId !== undefined) tx.requestId = requestId;
      return submitAndReply(submitter, reply, tx, request.headers);
    },
  );
};

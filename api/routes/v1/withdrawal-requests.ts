// Withdrawal requests: a hold on available funds (201 approved / 402 denied)
// that a withdrawal settles, a cancel releases, or its time to live lapses.
// An account may have MAX_HOLDS_PER_ACCOUNT open holds at most (hold_limit).
import type { FastifyPluginAsync } from 'fastify';
import { bodyMayBeOmitted } from '../../json-body.js';
import { accountIdSchema, idSchema, problemResponses } from '../../schemas.js';
import type { TransactionSubmitter, TxRequest } from '../../submit.js';
import { MAX_EXPIRES_IN_SECONDS, accountParams, bodyAmount, bodyId, labelProperties, labelsOf, transactionResponses, writeHeaders, type Labels } from './v1-schemas.js';
import { submitAndReply, transactionId, type WriteHeaders } from './write.js';

interface RequestRoute {
  Params: { accountId: string };
  Body: { id?: string; amount: number; expiresInSeconds?: number } & Labels;
  Headers: WriteHeaders;
}

interface CancelRoute {
  Params: { accountId: string; requestId: string };
  Body: { id?: string } & Labels;
  Headers: WriteHeaders;
}

const accepted = 'Accepted: durable in the transaction log, the decision follows at Location';

export const withdrawalRequestRoutes: FastifyPluginAsync<{ submitter: TransactionSubmitter }> = async (app, { submitter }) => {
  app.post<RequestRoute>(
    '/accounts/:accountId/withdrawal-requests',
    {
      schema: {
        tags: ['transactions'],
        summary: 'Request a withdrawal (hold funds)',
        description:
          'Approved iff the account has fewer open holds than the server\'s limit (`MAX_HOLDS_PER_ACCOUNT`, 1,000 by default) and `available >= amount`; the amount is then held (`reserved += amount`) until a withdrawal settles it, a cancel releases it, or its time to live lapses (judged by the transaction log\'s clock). An account already at the limit: 402 `hold_limit`, whatever the amount, until a hold is settled, cancelled or lapses. Not decided within the deadline: 402 `timeout`, and the hold is cancelled.',
        params: accountParams,
        headers: writeHeaders,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['amount'],
          properties: {
            id: bodyId,
            amount: bodyAmount,
            expiresInSeconds: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_EXPIRES_IN_SECONDS,
              description:
                "Time to live of the hold, in seconds (default: the server's, 7 days). Part of the body: the same id with another value is a 409; naming the default is the same body as naming none.",
            },
            ...labelProperties,
          },
        },
        response: {
          ...transactionResponses({
            201: 'Approved: the amount is held',
            202: accepted,
            402: 'Denied: the account holds as many requests as it may (hold_limit), insufficient funds (insufficient_funds), or not decided in time (timeout)',
          }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { accountId } = request.params;
      const { amount, expiresInSeconds } = request.body;
      const tx: TxRequest = { id: transactionId(request.body.id, request.headers), type: 'withdraw_request', accountId, amount, ...labelsOf(request.body) };
      if (expiresInSeconds !== undefined) tx.ttlSeconds = expiresInSeconds;
      return submitAndReply(submitter, reply, tx, request.headers);
    },
  );

  app.post<CancelRoute>(
    '/accounts/:accountId/withdrawal-requests/:requestId/cancel',
    {
      // Its one field, `id`, may come as Idempotency-Key: then the call needs no body.
      ...bodyMayBeOmitted,
      schema: {
        tags: ['transactions'],
        summary: 'Cancel a withdrawal request (release its hold)',
        description:
          'Releases the hold of an approved withdrawal request; 404 when the request holds nothing (never approved, settled, cancelled or expired). With the id in Idempotency-Key, the body may be left out.',
        params: {
          type: 'object',
          additionalProperties: false,
          required: ['accountId', 'requestId'],
          properties: { accountId: accountIdSchema, requestId: idSchema },
        },
        headers: writeHeaders,
        body: { type: 'object', additionalProperties: false, properties: { id: bodyId, ...labelProperties } },
        response: {
          ...transactionResponses({ 200: 'Cancelled: the hold is released', 202: accepted }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { accountId, requestId } = request.params;
      const tx: TxRequest = { id: transactionId(request.body.id, request.headers), type: 'cancel', accountId, requestId, ...labelsOf(request.body) };
      return submitAndReply(submitter, reply, tx, request.headers);
    },
  );
};

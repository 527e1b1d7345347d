// The compatibility contract: POST /transaction, as stress tools and existing clients call it.
import type { FastifyPluginAsync } from 'fastify';
import { idSchema, accountIdSchema, amountSchema, problemResponses, outcomeBodySchema } from '../schemas.js';
import { clientTimestamp, timestampSchema } from '../client-timestamp.js';
import { sendResult } from '../reply.js';
import type { TransactionSubmitter, TxRequest } from '../submit.js';

const bodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'amount', 'accountId'],
  properties: {
    id: idSchema,
    type: { type: 'string', enum: ['deposit', 'withdraw_request', 'withdraw'] },
    amount: amountSchema,
    accountId: accountIdSchema,
    // Informational: the ledger orders by the log, never by a client's clock.
    timestamp: timestampSchema,
  },
} as const;

interface Body {
  id: string;
  type: 'deposit' | 'withdraw_request' | 'withdraw';
  amount: number;
  accountId: string;
  timestamp?: string | number;
}

export const compatibilityTransactionRoutes: FastifyPluginAsync<{ submitter: TransactionSubmitter }> = async (app, { submitter }) => {
  app.post<{ Body: Body }>(
    '/transaction',
    {
      schema: {
        tags: ['compatibility'],
        summary: 'A deposit, withdrawal request or withdrawal (the original contract)',
        body: bodySchema,
        response: {
          200: { description: 'Deposit or withdrawal applied', ...outcomeBodySchema },
          201: { description: 'Withdrawal request approved', ...outcomeBodySchema },
          202: { description: 'Accepted: durable in the transaction log, the decision follows', ...outcomeBodySchema },
          402: { description: 'Withdrawal request denied (the hold limit, insufficient funds, or not decided in time)', ...outcomeBodySchema },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { id, type, amount, accountId, timestamp } = request.body;
      const tx: TxRequest = { id, type, amount, accountId };
      if (timestamp !== undefined) tx.clientTimestamp = clientTimestamp(timestamp);
      return sendResult(reply, tx, await submitter.submit(tx, { wait: true }), { v1: false, respondAsync: false });
    },
  );
};

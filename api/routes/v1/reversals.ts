// POST /v1/transactions/:id/reversal {id, amount?, reference?, metadata?}
// and POST /v1/accounts/:accountId/transactions/:id/reversal: undo an applied
// deposit, an applied withdrawal or a completed transfer, whole or in part
// (docs/transfers.md, Reversals). The owner of the original's account decides
// it against the original as it remembers it; this finds that account, and
// turns the reversal of a transfer into the reversal of its credit on `to`,
// where the owner remembers the credit.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createError, TELLER_ERR_FORBIDDEN, TELLER_ERR_TRANSACTION_NOT_FOUND } from '../../../common/errors.js';
import type { Outcome } from '../../../common/types.js';
import { bodyMayBeOmitted } from '../../json-body.js';
import type { ReadModel, TransactionView } from '../../readmodel.js';
import { accountIdSchema, idSchema, problemResponses } from '../../schemas.js';
import type { TransactionSubmitter, TxRequest } from '../../submit.js';
import { legsAfter } from '../../transfer-lookup.js';
import { creditIdOf } from '../../transfer-view.js';
import { bodyAmount, bodyId, labelProperties, labelsOf, transactionResponses, writeHeaders, type Labels } from './v1-schemas.js';
import { submitAndReply, transactionId, type WriteHeaders } from './write.js';

export interface ReversalRouteOptions {
  submitter: TransactionSubmitter;
  readModel: Pick<ReadModel, 'transaction' | 'accountTransaction' | 'settlement'>;
  /** Whether the caller may act on the account (API keys limited to accounts). */
  mayAccess?: (request: FastifyRequest, accountId: string) => boolean;
}

type Body = { id?: string; amount?: number } & Labels;

const body = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: bodyId,
    amount: { ...bodyAmount, description: 'Minor units to reverse; absent: all that is left of the original.' },
    ...labelProperties,
  },
} as const;

const schema = (summary: string, params: object) => ({
  tags: ['transactions'],
  summary,
  description:
    'Undoes an applied deposit (a debit, posted even past the funds and flagged `overdraft` past the limit), an applied withdrawal (a credit) or a completed transfer (a debit of `to`, whose amount is then credited back to `from`), entirely or in part: never more than the original in total. A frozen or closed account does not refuse it. The original then shows `reversed`, the total taken back. 404 `original-not-found` for an original its account does not know within the id window (or not decided yet), 404 `not-reversible` for anything else (a request, a cancel, a transfer denied or returned, a denial).',
  params,
  headers: writeHeaders,
  body,
  response: {
    ...transactionResponses({
      200: 'Applied: the original is reversed by `amount`',
      202: 'Accepted: durable in the transaction log, the decision follows at Location',
      402: 'Denied: more than is left of the original (exceeds_original), or the balance would pass 2^53 - 1 minor units either way (balance_out_of_range)',
    }),
    ...problemResponses,
  },
});

export const reversalRoutes: FastifyPluginAsync<ReversalRouteOptions> = async (app, { submitter, readModel, mayAccess }) => {
  app.post<{ Params: { id: string }; Body: Body; Headers: WriteHeaders }>(
    '/transactions/:id/reversal',
    // Its id may come as Idempotency-Key, and without an amount it reverses all that is left: then the call needs no body.
    { ...bodyMayBeOmitted, schema: schema('Reverse a transaction', { type: 'object', additionalProperties: false, required: ['id'], properties: { id: idSchema } }) },
    async (request, reply) => {
      const { id } = request.params;
      const reversalId = transactionId(request.body.id, request.headers);
      // As GET /v1/transactions/:id finds it: the newest decision of the id, of any account.
      const view = await readModel.transaction(id);
      // A key limited to other accounts learns nothing, not even that the id exists.
      if (!view || (mayAccess && !mayAccess(request, view.accountId))) throw createError(TELLER_ERR_TRANSACTION_NOT_FOUND, { id });
      const tx = reversalOf(reversalId, view.accountId, id, view, request.body, await postedCredit(readModel, view));
      if (mayAccess && !mayAccess(request, tx.accountId)) throw createError(TELLER_ERR_FORBIDDEN, { accountId: tx.accountId });
      return submitAndReply(submitter, reply, tx, request.headers);
    },
  );

  app.post<{ Params: { accountId: string; id: string }; Body: Body; Headers: WriteHeaders }>(
    '/accounts/:accountId/transactions/:id/reversal',
    {
      ...bodyMayBeOmitted,
      schema: schema('Reverse a transaction of an account', {
        type: 'object',
        additionalProperties: false,
        required: ['accountId', 'id'],
        properties: { accountId: accountIdSchema, id: idSchema },
      }),
    },
    async (request, reply) => {
      const { accountId, id } = request.params;
      const reversalId = transactionId(request.body.id, request.headers);
      // Not known here yet: the owner of the account decides, and says so if it knows none.
      const view = await readModel.accountTransaction(accountId, id);
      const tx = reversalOf(reversalId, accountId, id, view, request.body, await postedCredit(readModel, view));
      if (mayAccess && !mayAccess(request, tx.accountId)) throw createError(TELLER_ERR_FORBIDDEN, { accountId: tx.accountId });
      return submitAndReply(submitter, reply, tx, request.headers);
    },
  );
};

/**
 * The credit of a posted two-phase transfer: its id holds the post's time, not
 * the transfer's, so it is read from the legs as GET /v1/transfers/:id reads
 * them. Undefined for anything else, or while the credit is not decided.
 */
async function postedCredit(reader: Pick<ReadModel, 'transaction' | 'accountTransaction' | 'settlement'>, view: TransactionView | null): Promise<Outcome | undefined> {
  const debit = view?.outcome;
  if (debit?.type !== 'transfer' || debit.status !== 'posted') return undefined;
  return (await legsAfter(reader, debit)).credit;
}

/**
 * The reversal to submit: on the original's account, naming it; for an
 * applied transfer's debit, on `to`, naming the credit by the id its owner
 * gave it (common/transfer-ids.ts), since the credit is what a reversal
 * undoes and its owner remembers it. Anything else goes to the original's
 * account, whose owner answers why it cannot be reversed.
 */
export function reversalOf(reversalId: string, accountId: string, originalId: string, view: TransactionView | null, body: Body, posted?: Outcome): TxRequest {
  const debit: Outcome | undefined = view?.outcome;
  const transferred = debit?.type === 'transfer' && debit.status === 'applied' && debit.counterparty !== undefined;
  const tx: TxRequest = {
    id: reversalId,
    type: 'reversal',
    accountId: posted ? posted.accountId : transferred ? debit.counterparty! : accountId,
    requestId: posted ? posted.id : transferred ? creditIdOf(debit) : originalId,
    ...labelsOf(body),
  };
  if (body.amount !== undefined) tx.amount = body.amount;
  return tx;
}

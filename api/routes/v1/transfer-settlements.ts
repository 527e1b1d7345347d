// POST /v1/transfers/:id/post {id?, amount?} and POST /v1/transfers/:id/void
// {id?}: the second phase of a two-phase transfer (docs/transfers.md,
// Two-phase transfers). The transfer's `from` is found as GET
// /v1/transfers/:id finds it; the post or void is a write of its own id on
// `from`, naming the transfer. A post waits for its credit as a transfer
// waits for its legs.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { bodyMayBeOmitted } from '../../json-body.js';
import {
  createError,
  TELLER_ERR_FORBIDDEN,
  TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY,
  TELLER_ERR_REQUEST_NOT_HELD,
  TELLER_ERR_TRANSFER_NOT_FOUND,
} from '../../../common/errors.js';
import type { Outcome } from '../../../common/types.js';
import { legsAfter, type TransferReader } from '../../transfer-lookup.js';
import type { SettleRequest, SettleResult, TransferSubmitter } from '../../transfer-submit.js';
import { transferLocation, transferSchema, transferStatusCode, transferView, type TransferLegs } from '../../transfer-view.js';
import { lookupIdSchema, problemResponses } from '../../schemas.js';
import { bodyAmount, bodyId, labelProperties, labelsOf, writeHeaders, type Labels } from './v1-schemas.js';
import { prefersAsync, transactionId, type WriteHeaders } from './write.js';

interface SettleRoute {
  Params: { id: string };
  Body: { id?: string; amount?: number } & Labels;
  Headers: WriteHeaders;
}

export interface SettlementRouteOptions {
  transfers: Pick<TransferSubmitter, 'settle'>;
  readModel: TransferReader;
  mayAccess?: (request: FastifyRequest, accountId: string) => boolean;
}

const params = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: lookupIdSchema } } as const;

export const transferSettlementRoutes: FastifyPluginAsync<SettlementRouteOptions> = async (app, options) => {
  for (const kind of ['post', 'void'] as const) {
    app.post<SettleRoute>(
      `/transfers/:id/${kind}`,
      {
        // Its id may come as Idempotency-Key: then a void, or a post of the whole hold, needs no body.
        ...bodyMayBeOmitted,
        schema: {
          tags: ['transfers'],
          summary: kind === 'post' ? 'Post a two-phase transfer' : 'Void a two-phase transfer',
          description:
            kind === 'post'
              ? 'Debits `from` the amount named (at most what the transfer holds; absent: all of it) and releases the rest of the hold, then credits `to` as a transfer does. 200 `completed`, 402 when the amount exceeds the hold (`exceeds_pending`) or `to` refused the credit (`returned`), 404 when the transfer holds nothing (never approved, posted, voided or expired), 202 when not decided in time.'
              : 'Releases the hold of a two-phase transfer: 200 `voided`, 404 when it holds nothing.',
          params,
          headers: writeHeaders,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: kind === 'post' ? { id: bodyId, amount: bodyAmount, ...labelProperties } : { id: bodyId, ...labelProperties },
          },
          response: {
            200: { description: kind === 'post' ? 'Completed: posted and credited' : 'Voided: the hold is released', ...transferSchema },
            202: { description: 'Accepted: durable in the transaction log; the transfer follows at Location', ...transferSchema },
            402: { description: 'Denied: more than the transfer holds (exceeds_pending), or the credit refused (returned)', ...transferSchema },
            ...problemResponses,
          },
        },
      },
      async (request, reply) => settle(options, kind, request, reply),
    );
  }
};

async function settle(options: SettlementRouteOptions, kind: 'post' | 'void', request: FastifyRequest<SettleRoute>, reply: FastifyReply): Promise<FastifyReply> {
  const { transfers, readModel, mayAccess } = options;
  const transferId = request.params.id;
  const id = transactionId(request.body.id, request.headers);
  const found = await readModel.transaction(transferId, 'transfer');
  const from = found?.accountId;
  const to = found?.outcome?.counterparty;
  // A key limited to other accounts learns nothing of the transfer; one that may see `to` only may not act on `from`.
  const visible = from !== undefined && (!mayAccess || mayAccess(request, from) || (to !== undefined && mayAccess(request, to)));
  if (!visible) throw createError(TELLER_ERR_TRANSFER_NOT_FOUND, { id: transferId });
  if (mayAccess && !mayAccess(request, from)) throw createError(TELLER_ERR_FORBIDDEN, { accountId: from });
  const settleRequest: SettleRequest = { id, kind, transferId, from, ...labelsOf(request.body) };
  if (to !== undefined) settleRequest.to = to;
  if (request.body.amount !== undefined) settleRequest.amount = request.body.amount;
  const respondAsync = prefersAsync(request.headers.prefer);
  const result = await transfers.settle(settleRequest, { wait: !respondAsync });
  return answer(reply, readModel, { transferId, from, debit: found?.outcome }, result, respondAsync);
}

async function answer(
  reply: FastifyReply,
  readModel: TransferReader,
  transfer: { transferId: string; from: string; debit: Outcome | undefined },
  result: SettleResult,
  respondAsync: boolean,
): Promise<FastifyReply> {
  const { transferId, from } = transfer;
  reply.header('location', transferLocation(transferId));
  if (result.kind === 'accepted') {
    if (respondAsync) reply.header('preference-applied', 'respond-async');
    return reply.code(202).send(transferView({ id: transferId, from }, transfer.debit ? { debit: transfer.debit } : {}));
  }
  const { settled, credit } = result;
  if (settled.status === 'conflict') throw createError(TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, { id: settled.id });
  if (settled.status === 'not_found') throw createError(TELLER_ERR_REQUEST_NOT_HELD, { requestId: transferId });
  if (settled.replayed) reply.header('idempotent-replayed', 'true');
  // The transfer was decided before its post in the same partition: read again if the lookup found it undecided.
  const debit = transfer.debit ?? (await readModel.transaction(transferId, 'transfer'))?.outcome;
  if (settled.status !== 'applied') {
    const view = transferView({ id: transferId, from }, debit ? { debit } : {});
    return reply.code(402).send({ ...view, ...(settled.reason === undefined ? {} : { reason: settled.reason }) });
  }
  const legs: TransferLegs = debit ? { debit, settled, ...(credit ? { credit } : {}) } : {};
  // A refused credit's return, when it was already decided, shows as a lookup shows it.
  const known = debit && credit?.status === 'denied' ? await legsAfter(readModel, debit, settled) : legs;
  const view = transferView({ id: transferId, from }, known);
  return reply.code(settled.type === 'transfer_void' ? 200 : transferStatusCode(view)).send(view);
}

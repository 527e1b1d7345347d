// POST /v1/transfers {id, from, to, amount, pending?, expiresInSeconds?,
// reference?, metadata?}: money from one account to another in two legs
// (docs/transfers.md), answered once both are decided within the deadline, or
// for a two-phase transfer once its hold is; GET /v1/transfers/:id: where one
// stands. Its post and void are api/routes/v1/transfer-settlements.ts.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  createError,
  TELLER_ERR_FORBIDDEN,
  TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY,
  TELLER_ERR_TRANSFER_NOT_FOUND,
  TELLER_ERR_TTL_WITHOUT_HOLD,
} from '../../../common/errors.js';
import { legsAfter, lookUpTransfer, type TransferReader } from '../../transfer-lookup.js';
import type { TransferRequest, TransferResult, TransferSubmitter } from '../../transfer-submit.js';
import { transferLocation, transferSchema, transferStatusCode, transferView } from '../../transfer-view.js';
import { accountIdSchema, lookupIdSchema, problemResponses } from '../../schemas.js';
import { bodyAmount, bodyId, labelProperties, labelsOf, MAX_EXPIRES_IN_SECONDS, writeHeaders, type Labels } from './v1-schemas.js';
import { prefersAsync, transactionId, type WriteHeaders } from './write.js';

interface PostRoute {
  Body: { id?: string; from: string; to: string; amount: number; pending?: boolean; expiresInSeconds?: number } & Labels;
  Headers: WriteHeaders;
}

export interface TransferRouteOptions {
  transfers: Pick<TransferSubmitter, 'submit'>;
  readModel: TransferReader;
  /** Whether the caller may act on, or see, the account (API keys limited to accounts). */
  mayAccess?: (request: FastifyRequest, accountId: string) => boolean;
}

const responses = {
  200: { description: 'Completed: `from` is debited and `to` credited', ...transferSchema },
  201: { description: 'Held: a two-phase transfer approved; the amount is held on `from` until posted, voided or expired', ...transferSchema },
  202: { description: 'Accepted: durable in the transaction log; the transfer, `pending` or `debited`, follows at Location', ...transferSchema },
  402: {
    description: 'Denied: the debit was refused (insufficient_funds, account_frozen, account_closed), or `to` refused the credit and the amount is returned to `from` (`returned`)',
    ...transferSchema,
  },
} as const;

export const transferRoutes: FastifyPluginAsync<TransferRouteOptions> = async (app, { transfers, readModel, mayAccess }) => {
  app.post<PostRoute>(
    '/transfers',
    {
      schema: {
        tags: ['transfers'],
        summary: 'Transfer between two accounts',
        description:
          'Debits `from` (approved when it is open and `balance - reserved + overdraftLimit >= amount`), then credits `to` (refused when `to` is closed, and the amount then returns to `from`). Answers once both legs are decided within the deadline: 200 `completed` (as an applied deposit answers: a completed transfer leaves nothing open, unlike a withdrawal request\'s hold, which is 201), 402 `denied` or `returned`, 202 otherwise. The id is claimed on `from`.',
        headers: writeHeaders,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to', 'amount'],
          properties: {
            id: bodyId,
            from: { ...accountIdSchema, description: 'The account debited.' },
            to: { ...accountIdSchema, description: 'The account credited; may be `from` itself.' },
            amount: bodyAmount,
            pending: {
              type: 'boolean',
              description: 'Two-phase: hold the amount on `from` (201) until `POST /v1/transfers/:id/post` or `/void`, or until it expires. Part of the body.',
            },
            expiresInSeconds: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_EXPIRES_IN_SECONDS,
              description: "Of a two-phase transfer: the hold's time to live in seconds (default: the server's, as a withdrawal request's), at most ID_WINDOW_SECONDS. Part of the body.",
            },
            ...labelProperties,
          },
        },
        response: { ...responses, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { from, to, amount, pending, expiresInSeconds } = request.body;
      // The debit is the key's act on `from`; any account may be credited.
      if (mayAccess && !mayAccess(request, from)) throw createError(TELLER_ERR_FORBIDDEN, { accountId: from });
      const transfer: TransferRequest = { id: transactionId(request.body.id, request.headers), from, to, amount, ...labelsOf(request.body) };
      if (pending) transfer.pending = true;
      // A time to live is a hold's: a single-phase transfer holds nothing.
      if (expiresInSeconds !== undefined && !pending) throw createError(TELLER_ERR_TTL_WITHOUT_HOLD);
      if (expiresInSeconds !== undefined) transfer.expiresInSeconds = expiresInSeconds;
      const respondAsync = prefersAsync(request.headers.prefer);
      const result = await transfers.submit(transfer, { wait: !respondAsync });
      // A repeat of a two-phase transfer posted or voided answers where it stands now, its post's credit included.
      const debit = result.kind === 'decided' ? result.legs.debit : undefined;
      if (debit?.replayed && debit.pending && (debit.status === 'posted' || debit.status === 'voided')) {
        return sendTransfer(reply, transfer, { kind: 'decided', legs: { ...(await legsAfter(readModel, debit)), debit } }, respondAsync);
      }
      return sendTransfer(reply, transfer, result, respondAsync);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/transfers/:id',
    {
      schema: {
        tags: ['transfers'],
        summary: 'A transfer by id',
        description: 'The state of the transfer: `pending`, `denied`, `debited`, `completed` or `returned`; of a two-phase transfer, `voided` or `expired` too.',
        params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: lookupIdSchema } },
        response: { 200: { description: 'The transfer', ...transferSchema }, ...problemResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const view = await lookUpTransfer(readModel, id);
      // A key limited to other accounts learns nothing, not even that the transfer exists.
      const visible = view && (!mayAccess || mayAccess(request, view.from) || (view.to !== undefined && mayAccess(request, view.to)));
      if (!view || !visible) throw createError(TELLER_ERR_TRANSFER_NOT_FOUND, { id });
      return view;
    },
  );
};

/** Answers a submitted transfer, with its URL on every answer; an id reused with another body is thrown as its TellerError. */
function sendTransfer(reply: FastifyReply, transfer: TransferRequest, result: TransferResult, respondAsync: boolean): FastifyReply {
  if (result.kind === 'accepted') {
    if (respondAsync) reply.header('preference-applied', 'respond-async');
    return reply.code(202).header('location', transferLocation(transfer.id)).send(transferView(transfer, {}));
  }
  const { debit } = result.legs;
  if (debit.status === 'conflict') throw createError(TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, { id: transfer.id });
  if (debit.replayed) reply.header('idempotent-replayed', 'true');
  const view = transferView(transfer, result.legs);
  return reply.code(transferStatusCode(view)).header('location', transferLocation(transfer.id)).send(view);
}

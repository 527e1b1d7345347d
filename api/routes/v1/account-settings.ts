// PUT /v1/accounts/:accountId {overdraftLimit?, status?}: an account's
// settings (docs/transfers.md, Account settings), one `account_settings`
// message through the log like every change. Its id is the Idempotency-Key
// when given; else the api mints one, `settings~<random>`, which no client's
// id can be (`~`), so the call is taken once and a retry is a new change.
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { createError, TELLER_ERR_SETTINGS_REQUIRED } from '../../../common/errors.js';
import { ACCOUNT_STATUSES, type AccountStatus, type AccountView, type Outcome } from '../../../common/types.js';
import type { ReadModel } from '../../readmodel.js';
import { sendResult, transactionLocation } from '../../reply.js';
import { problemResponses } from '../../schemas.js';
import type { TransactionSubmitter, TxRequest } from '../../submit.js';
import { accountBody, accountSchema } from './account-schemas.js';
import { accountParams, labelProperties, labelsOf, transactionResponses, writeHeaders, type Labels } from './v1-schemas.js';
import { prefersAsync, type WriteHeaders } from './write.js';

interface Route {
  Params: { accountId: string };
  Body: { overdraftLimit?: number; status?: AccountStatus } & Labels;
  Headers: WriteHeaders;
}

export interface SettingsRouteOptions {
  submitter: TransactionSubmitter;
  readModel: Pick<ReadModel, 'account'>;
}

/** The id of a settings change the client named none for. */
export function mintSettingsId(): string {
  return `settings~${randomBytes(12).toString('base64url')}`;
}

export const accountSettingsRoutes: FastifyPluginAsync<SettingsRouteOptions> = async (app, { submitter, readModel }) => {
  app.put<Route>(
    '/accounts/:accountId',
    {
      schema: {
        tags: ['accounts'],
        summary: "Change an account's settings",
        description:
          'Sets the overdraft limit, the status, or both. `frozen` refuses debits; `closed` refuses debits and credits, and is denied (402 `account_not_empty`) while the account holds money or open holds. The id is the Idempotency-Key when given, else one the server mints (then a retry is a new change).',
        params: accountParams,
        headers: { ...writeHeaders, properties: { ...writeHeaders.properties, 'idempotency-key': { ...writeHeaders.properties['idempotency-key'], description: 'The id of the change; without it the server mints one.' } } },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            overdraftLimit: {
              type: 'integer',
              minimum: 0,
              maximum: Number.MAX_SAFE_INTEGER,
              description: 'Minor units below zero the available funds may reach for an approval (withdrawal request, transfer debit).',
            },
            status: { type: 'string', enum: [...ACCOUNT_STATUSES] },
            ...labelProperties,
          },
        },
        response: {
          // Required as any account answer's, less what a failed read of the settings left unnamed leaves out.
          200: { description: 'Applied: the account with its settings', ...accountSchema, required: ['accountId', 'balance', 'reserved'] },
          ...transactionResponses({
            202: 'Accepted: durable in the transaction log, the decision follows at Location',
            402: 'Denied (account_not_empty): a closed account may hold no money and no open holds',
          }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { accountId } = request.params;
      const { overdraftLimit, status } = request.body;
      if (overdraftLimit === undefined && status === undefined) throw createError(TELLER_ERR_SETTINGS_REQUIRED);
      const id = request.headers['idempotency-key'] ?? mintSettingsId();
      const tx: TxRequest = { id, type: 'account_settings', accountId, ...labelsOf(request.body) };
      if (overdraftLimit !== undefined) tx.overdraftLimit = overdraftLimit;
      if (status !== undefined) tx.accountStatus = status;
      const respondAsync = prefersAsync(request.headers.prefer);
      const result = await submitter.submit(tx, { wait: !respondAsync });
      if (result.kind !== 'decided' || result.outcome.status !== 'applied') return sendResult(reply, tx, result, { v1: true, respondAsync });
      return sendSettings(reply, result.outcome, readModel);
    },
  );
};

/**
 * The account once the change is applied: its balance as of the decision,
 * the settings the change named, and those it left as they were, from the
 * read model (which holds the decision once it is announced; an account it
 * does not hold has the defaults). When that read fails the answer leaves
 * them and `available` out rather than guess them.
 */
async function sendSettings(reply: FastifyReply, outcome: Outcome, readModel: Pick<ReadModel, 'account'>): Promise<FastifyReply> {
  const { accountId, balance, reserved } = outcome;
  const bothNamed = outcome.overdraftLimit !== undefined && outcome.accountStatus !== undefined;
  const current: Partial<AccountView> | undefined = bothNamed ? {} : await readModel.account(accountId).then((view) => view ?? {}, () => undefined);
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
  reply.code(200).header('location', transactionLocation(outcome.id));
  if (current === undefined) {
    return reply.send({ accountId, balance, reserved, overdraftLimit: outcome.overdraftLimit, status: outcome.accountStatus });
  }
  const overdraftLimit = outcome.overdraftLimit ?? current.overdraftLimit ?? 0;
  const status = outcome.accountStatus ?? current.status ?? 'open';
  return reply.send(accountBody({ accountId, balance, reserved, overdraftLimit, status }));
}

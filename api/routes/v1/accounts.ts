// GET /v1/accounts/:accountId: the account's state from the read model; with
// `?asOf=`, its state then from the ledger (api/account-history.ts).
// PUT /v1/accounts/:accountId: its settings (api/routes/v1/account-settings.ts).
import type { FastifyPluginAsync } from 'fastify';
import { createError, TELLER_ERR_ACCOUNT_NOT_FOUND, TELLER_ERR_AS_OF_IN_THE_FUTURE } from '../../../common/errors.js';
import type { AccountHistory } from '../../account-history.js';
import { dateTimeQuerySchema, isoTime, readDateTime } from '../../date-time.js';
import type { ReadModel } from '../../readmodel.js';
import { problemResponses } from '../../schemas.js';
import { accountBody, accountSchema, pastAccountBody, pastAccountSchema } from './account-schemas.js';
import { accountParams } from './v1-schemas.js';

/** An answer either of the live account or, with `asOf`, of the account then. */
const accountAnswerSchema = {
  description: 'The account now (with `updatedAt`), or as of `asOf` (with `asOf`, `hadHistory` and `lastEntry`)',
  type: 'object',
  required: accountSchema.required,
  properties: {
    ...pastAccountSchema.properties,
    updatedAt: accountSchema.properties.updatedAt,
    asOf: { type: 'string', format: 'date-time', description: 'The time asked for, in UTC to the millisecond (the ledger keeps no finer time).' },
  },
} as const;

interface Route {
  Params: { accountId: string };
  Querystring: { asOf?: string };
}

export interface AccountRouteOptions {
  readModel: Pick<ReadModel, 'account'>;
  history: Pick<AccountHistory, 'asOf'>;
  /** The replica's clock, which an `asOf` may not be later than. */
  now?: () => number;
}

export const accountRoutes: FastifyPluginAsync<AccountRouteOptions> = async (app, { readModel, history, now = Date.now }) => {
  app.get<Route>(
    '/accounts/:accountId',
    {
      schema: {
        tags: ['accounts'],
        summary: "An account's state, now or at a past time",
        description:
          'Reads what the ledger has decided (read-your-writes after a 2xx), from the read model. With `asOf`, the account right after its last ledger entry decided at or before that time (by the log clock), read from the ledger itself: zeros and `hadHistory: false` before its first entry; a time later than now is a 400. The ledger follows the answers by a few milliseconds, so a time within the last moments may still gain an entry; a cut (POST /v1/cuts) gives an answer that never changes. 404 for an account never seen.',
        params: accountParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            asOf: { ...dateTimeQuerySchema, description: 'RFC 3339 date-time with its offset: the account as it stood then.' },
          },
        },
        response: { 200: accountAnswerSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { accountId } = request.params;
      const { asOf } = request.query;
      if (asOf !== undefined) return pastAccountAsOf(history, accountId, asOf, now());
      const view = await readModel.account(accountId);
      if (!view) throw createError(TELLER_ERR_ACCOUNT_NOT_FOUND, { accountId });
      return { ...accountBody(view), updatedAt: new Date(view.updatedAt).toISOString() };
    },
  );
};

/** The account at `asOf` from the ledger; a time still to come is refused, since its answer could change. */
async function pastAccountAsOf(history: Pick<AccountHistory, 'asOf'>, accountId: string, asOf: string, now: number) {
  const time = readDateTime('asOf', asOf).notAfter;
  if (time > now) throw createError(TELLER_ERR_AS_OF_IN_THE_FUTURE, { asOf, now: isoTime(now) });
  const past = await history.asOf(accountId, time);
  if (!past) throw createError(TELLER_ERR_ACCOUNT_NOT_FOUND, { accountId });
  return { ...pastAccountBody(accountId, past), asOf: isoTime(time) };
}

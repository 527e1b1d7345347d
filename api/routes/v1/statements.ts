// GET /v1/accounts/:accountId/transactions?limit=&after=: the account's
// statement from the ledger, newest first, in pages (see api/statement.ts).
import { referenceSchema } from '../../../common/message.js';
import { Ajv } from 'ajv';
import type { FastifyPluginAsync, FastifySchemaCompiler } from 'fastify';
import { createError, TELLER_ERR_ACCOUNT_NOT_FOUND } from '../../../common/errors.js';
import type { ReadModel } from '../../readmodel.js';
import { ajvOptions, problemResponses } from '../../schemas.js';
import { decodeCursor, type Statements } from '../../statement.js';
import { TX_TYPES, type LedgerDoc } from '../../../common/types.js';
import { extrasOf } from '../../reply.js';
import { accountParams, extraProperties } from './v1-schemas.js';

// Query strings are text: this route alone coerces `limit=20` to a number (the
// api's bodies never coerce) and fills the default.
const coercing = new Ajv({ ...ajvOptions, coerceTypes: true, useDefaults: true });
const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema }) => coercing.compile(schema as object);

const entrySchema = {
  type: 'object',
  required: ['id', 'type', 'status', 'balanceAfter', 'reservedAfter', 'createdAt'],
  properties: {
    id: { type: 'string', description: 'The transaction id (`<requestId>~expired` for a lapsed hold).' },
    type: { type: 'string', enum: [...TX_TYPES, 'expire'] },
    amount: { type: 'integer', description: 'Absent for a cancel or a settings change, which move no money themselves.' },
    requestId: { type: 'string' },
    status: { type: 'string', enum: ['applied', 'approved', 'denied', 'not_found'] },
    reason: { type: 'string' },
    overdraft: { type: 'boolean' },
    balanceAfter: { type: 'integer' },
    reservedAfter: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time', description: 'When the api accepted the call (for a lapse: the log clock that lapsed it).' },
    ...extraProperties,
  },
} as const;

interface Route {
  Params: { accountId: string };
  Querystring: { limit: number; after?: string; reference?: string };
}

export const statementRoutes: FastifyPluginAsync<{ statements: Pick<Statements, 'page'>; readModel: Pick<ReadModel, 'account'> }> = async (app, { statements, readModel }) => {
  app.get<Route>(
    '/accounts/:accountId/transactions',
    {
      validatorCompiler,
      schema: {
        tags: ['accounts'],
        summary: "An account's statement",
        description:
          'Ledger entries, newest first, all of them or only those of one `reference`. Pass `nextCursor` as `after` for the next page; pages stay stable while new transactions arrive. The ledger follows the answers by a few milliseconds. 404 for an account no transaction changed (as GET /v1/accounts/{accountId}).',
        params: accountParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 25, description: 'Entries per page.' },
            after: { type: 'string', minLength: 1, maxLength: 64, description: 'The `nextCursor` of the previous page.' },
            reference: { ...referenceSchema, description: 'Only the entries whose write carried this `reference`.' },
          },
        },
        response: {
          200: {
            description: 'A page of the statement',
            type: 'object',
            required: ['accountId', 'data', 'hasMore'],
            properties: {
              accountId: { type: 'string' },
              data: { type: 'array', items: entrySchema },
              hasMore: { type: 'boolean' },
              nextCursor: { type: 'string', description: 'Present when hasMore.' },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { accountId } = request.params;
      const { limit, after, reference } = request.query;
      const before = after === undefined ? undefined : decodeCursor(after);
      // The read model knows every account a transaction changed: an unknown one costs no ledger scan.
      if (!(await readModel.account(accountId))) throw createError(TELLER_ERR_ACCOUNT_NOT_FOUND, { accountId });
      const page = await statements.page(accountId, limit, before, reference === undefined ? {} : { reference });
      if (page.next !== undefined) {
        const filter = reference === undefined ? '' : `&reference=${encodeURIComponent(reference)}`;
        const next = `/v1/accounts/${encodeURIComponent(accountId)}/transactions?limit=${limit}${filter}&after=${page.next}`;
        reply.header('link', `<${next}>; rel="next"`);
      }
      return {
        accountId,
        data: page.entries.map(statementEntry),
        hasMore: page.next !== undefined,
        nextCursor: page.next,
      };
    },
  );
};

/** A ledger document as a statement shows it. */
function statementEntry(d: LedgerDoc) {
  return {
    id: d.id,
    type: d.type,
    amount: MOVES_NO_MONEY.has(d.type) ? undefined : d.amount,
    requestId: d.requestId,
    status: d.status,
    reason: d.reason,
    overdraft: d.overdraft,
    balanceAfter: d.balanceAfter,
    reservedAfter: d.reservedAfter,
    createdAt: new Date(d.receivedAt).toISOString(),
    ...extrasOf(d),
  };
}

/** Their documents record an amount of 0: none was asked for. */
const MOVES_NO_MONEY: ReadonlySet<LedgerDoc['type']> = new Set(['cancel', 'account_settings']);

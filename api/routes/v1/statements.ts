// GET /v1/accounts/:accountId/transactions?limit=&after=&reference=&type=&status=&from=&to=:
// the account's statement from the ledger, newest first, in pages, narrowed
// by the filters given (see api/statement.ts and api/ledger-filters.ts).
import { referenceSchema } from '../../../common/message.js';
import type { FastifyPluginAsync } from 'fastify';
import { createError, TELLER_ERR_ACCOUNT_NOT_FOUND, TELLER_ERR_INVALID_TIME_RANGE } from '../../../common/errors.js';
import { decidedAtOf } from '../../../common/ledger-outcome.js';
import type { ReadModel } from '../../readmodel.js';
import { problemResponses } from '../../schemas.js';
import { decodeCursor, type StatementFilter, type Statements } from '../../statement.js';
import { LEDGER_DOC_STATUSES, LEDGER_DOC_TYPES, type LedgerDoc } from '../../../common/types.js';
import { dateTimeQuerySchema, isoTime, readDateTime } from '../../date-time.js';
import type { LedgerDocStatus, LedgerDocType } from '../../ledger-filters.js';
import { extrasOf } from '../../reply.js';
import { accountParams, extraProperties } from './v1-schemas.js';
import { queryValidatorCompiler } from '../../query-validator.js';

// Query strings are text: this route coerces `limit=20` to a number and fills
// the default (api/query-validator.ts, which also checks `from` and `to` as date-times).

/** One of `values`, or several joined by commas. */
function commaListSchema(values: readonly string[], description: string) {
  const one = `(?:${values.join('|')})`;
  return { type: 'string', maxLength: 512, pattern: `^${one}(?:,${one})*$`, description } as const;
}

const entrySchema = {
  type: 'object',
  required: ['id', 'type', 'status', 'balanceAfter', 'reservedAfter', 'createdAt', 'decidedAt'],
  properties: {
    id: { type: 'string', description: 'The transaction id (`<requestId>~expired` for a lapsed hold).' },
    type: { type: 'string', enum: [...LEDGER_DOC_TYPES] },
    amount: { type: 'integer', description: 'Absent for a cancel or a settings change, which move no money themselves.' },
    requestId: { type: 'string' },
    status: { type: 'string', enum: [...LEDGER_DOC_STATUSES] },
    reason: { type: 'string' },
    overdraft: { type: 'boolean' },
    balanceAfter: { type: 'integer' },
    reservedAfter: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time', description: 'When the api accepted the call (for a lapse: the log clock that lapsed it).' },
    decidedAt: {
      type: 'string',
      format: 'date-time',
      description: "When it was decided, by the partition's log clock: what `from` and `to` filter on (for an entry written before it was recorded, `createdAt`).",
    },
    ...extraProperties,
  },
} as const;

interface Route {
  Params: { accountId: string };
  Querystring: StatementQuery;
}

interface StatementQuery {
  limit: number;
  after?: string;
  reference?: string;
  type?: string;
  status?: string;
  from?: string;
  to?: string;
}

/** The filters a query names, as the ledger reads them; TELLER_ERR_INVALID_TIME_RANGE when `from` is not before `to`. */
export function statementFilterOf(query: Omit<StatementQuery, 'limit' | 'after'>): StatementFilter {
  const filter: StatementFilter = {};
  if (query.reference !== undefined) filter.reference = query.reference;
  if (query.type !== undefined) filter.types = query.type.split(',') as LedgerDocType[];
  if (query.status !== undefined) filter.statuses = query.status.split(',') as LedgerDocStatus[];
  // Inclusive from, exclusive to: each compared with the ledger's first millisecond not before it.
  if (query.from !== undefined) filter.from = readDateTime('from', query.from).notBefore;
  if (query.to !== undefined) filter.to = readDateTime('to', query.to).notBefore;
  if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) {
    throw createError(TELLER_ERR_INVALID_TIME_RANGE, { from: query.from!, to: query.to! });
  }
  return filter;
}

/** The filters of the next page's link, as the client wrote them, in a fixed order. */
const FILTER_PARAMETERS = ['reference', 'type', 'status', 'from', 'to'] as const;

function nextLink(accountId: string, limit: number, query: StatementQuery, cursor: string): string {
  const filters = FILTER_PARAMETERS.filter((name) => query[name] !== undefined).map((name) => `&${name}=${encodeURIComponent(query[name]!)}`);
  return `/v1/accounts/${encodeURIComponent(accountId)}/transactions?limit=${limit}${filters.join('')}&after=${cursor}`;
}

export const statementRoutes: FastifyPluginAsync<{ statements: Pick<Statements, 'page'>; readModel: Pick<ReadModel, 'account'> }> = async (app, { statements, readModel }) => {
  app.get<Route>(
    '/accounts/:accountId/transactions',
    {
      validatorCompiler: queryValidatorCompiler,
      schema: {
        tags: ['accounts'],
        summary: "An account's statement",
        description:
          'Ledger entries, newest first: all of them, or only those the filters keep (every filter given applies). Pass `nextCursor` as `after` for the next page, with the same filters (the `Link` header carries them); pages stay stable while new transactions arrive. The ledger follows the answers by a few milliseconds. 404 for an account no transaction changed (as GET /v1/accounts/{accountId}).',
        params: accountParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 25, description: 'Entries per page.' },
            after: { type: 'string', minLength: 1, maxLength: 64, description: 'The `nextCursor` of the previous page.' },
            reference: { ...referenceSchema, description: 'Only the entries whose write carried this `reference`.' },
            type: commaListSchema(LEDGER_DOC_TYPES, 'Only entries of this type, or of any of these types, comma-separated (`expire`: lapsed holds).'),
            status: commaListSchema(LEDGER_DOC_STATUSES, 'Only entries with this status, or any of these, comma-separated: the status of the decision as it was made.'),
            from: { ...dateTimeQuerySchema, description: 'Only entries decided at or after this RFC 3339 date-time (inclusive).' },
            to: { ...dateTimeQuerySchema, description: 'Only entries decided before this RFC 3339 date-time (exclusive).' },
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
      const { limit, after } = request.query;
      const before = after === undefined ? undefined : decodeCursor(after);
      const filter = statementFilterOf(request.query);
      // The read model knows every account a transaction changed: an unknown one costs no ledger scan.
      if (!(await readModel.account(accountId))) throw createError(TELLER_ERR_ACCOUNT_NOT_FOUND, { accountId });
      const page = await statements.page(accountId, limit, before, filter);
      if (page.next !== undefined) reply.header('link', `<${nextLink(accountId, limit, request.query, page.next)}>; rel="next"`);
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
    createdAt: isoTime(d.receivedAt),
    decidedAt: isoTime(decidedAtOf(d)),
    ...extrasOf(d),
  };
}

/** Their documents record an amount of 0: none was asked for. */
const MOVES_NO_MONEY: ReadonlySet<LedgerDoc['type']> = new Set(['cancel', 'account_settings']);

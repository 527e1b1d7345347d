// POST /v1/cuts: takes a cut, the ledger consumer group's committed offset of
// every partition now, and keeps it (api/cuts.ts).
// GET /v1/cuts/:cut: the cut.
// GET /v1/cuts/:cut/accounts/:accountId: the account at the cut, the same
// answer forever (docs/history.md).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Cut } from '../../../common/cuts.js';
import { createError, TELLER_ERR_KEY_LIMITED } from '../../../common/errors.js';
import type { Cuts } from '../../cuts.js';
import { isoTime } from '../../date-time.js';
import { bodyMayBeOmitted } from '../../json-body.js';
import { accountIdSchema, problemResponses } from '../../schemas.js';
import { pastAccountBody, pastAccountSchema } from './account-schemas.js';

const cutParam = { type: 'string', minLength: 1, maxLength: 64, description: 'The id POST /v1/cuts answered.' } as const;

const cutSchema = {
  type: 'object',
  required: ['cut', 'createdAt', 'offsets'],
  properties: {
    cut: { type: 'string', description: 'Its id: `cut_<UTC time>_<random>`.' },
    createdAt: { type: 'string', format: 'date-time', description: 'When it was taken, by the clock of the replica that took it.' },
    offsets: {
      type: 'object',
      description:
        'Per partition of the transaction log, the first offset past the cut: every ledger entry below it is in the ledger and can no longer change. It trails the answers a little (a decision is answered before its entry is inserted and its offset committed).',
      additionalProperties: { type: 'integer' },
    },
  },
} as const;

const accountAtCutSchema = {
  type: 'object',
  required: [...pastAccountSchema.required, 'cut', 'partition', 'cutOffset'],
  properties: {
    ...pastAccountSchema.properties,
    cut: { type: 'string' },
    partition: { type: 'integer', description: 'The partition of the transaction log the account lives in.' },
    cutOffset: { type: 'integer', description: "The cut's offset in that partition: the account's entries below it count." },
  },
} as const;

export interface CutRouteOptions {
  cuts: Pick<Cuts, 'take' | 'get' | 'account'>;
  /** Whether the caller's key is one for every account (API keys limited to accounts may not see a cut's offsets). */
  mayAccessEveryAccount?: (request: FastifyRequest) => boolean;
}

function cutBody(cut: Cut) {
  return { cut: cut.id, createdAt: isoTime(cut.createdAt), offsets: Object.fromEntries([...cut.offsets].map(([partition, offset]) => [String(partition), offset])) };
}

export const cutRoutes: FastifyPluginAsync<CutRouteOptions> = async (app, { cuts, mayAccessEveryAccount }) => {
  const everyAccount = async (request: FastifyRequest) => {
    if (mayAccessEveryAccount && !mayAccessEveryAccount(request)) throw createError(TELLER_ERR_KEY_LIMITED);
  };

  app.post(
    '/cuts',
    {
      ...bodyMayBeOmitted,
      preHandler: everyAccount,
      schema: {
        tags: ['accounts'],
        summary: 'Take a cut',
        description:
          "Reads the ledger consumers' committed offset of every partition and keeps it as a cut: every account's balance at the cut (GET /v1/cuts/{cut}/accounts/{accountId}) is then fixed, whatever is written or replayed later. No body, or an empty object. 403 for a key limited to some accounts.",
        body: { type: 'object', additionalProperties: false, properties: {} },
        response: { 201: { description: 'The cut, kept', ...cutSchema }, ...problemResponses },
      },
    },
    async (_request, reply) => {
      const cut = await cuts.take();
      return reply.code(201).header('location', `/v1/cuts/${cut.id}`).send(cutBody(cut));
    },
  );

  app.get<{ Params: { cut: string } }>(
    '/cuts/:cut',
    {
      preHandler: everyAccount,
      schema: {
        tags: ['accounts'],
        summary: 'A cut',
        description: 'The cut as it was taken. 404 for an unknown cut; 403 for a key limited to some accounts.',
        params: { type: 'object', additionalProperties: false, required: ['cut'], properties: { cut: cutParam } },
        response: { 200: { description: 'The cut', ...cutSchema }, ...problemResponses },
      },
    },
    async (request) => cutBody(await cuts.get(request.params.cut)),
  );

  app.get<{ Params: { cut: string; accountId: string } }>(
    '/cuts/:cut/accounts/:accountId',
    {
      schema: {
        tags: ['accounts'],
        summary: 'An account at a cut',
        description:
          "The account right after its last ledger entry below the cut's offset in its partition, read from the ledger: the same answer every time. Zeros and `hadHistory: false` for an account with no entry below the cut. 404 for an unknown cut.",
        params: { type: 'object', additionalProperties: false, required: ['cut', 'accountId'], properties: { cut: cutParam, accountId: accountIdSchema } },
        response: { 200: { description: 'The account at the cut', ...accountAtCutSchema }, ...problemResponses },
      },
    },
    async (request) => {
      const { cut, accountId } = request.params;
      const atCut = await cuts.account(cut, accountId);
      return { ...pastAccountBody(accountId, atCut.account), cut: atCut.cut.id, partition: atCut.partition, cutOffset: atCut.offset };
    },
  );
};

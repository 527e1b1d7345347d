// Webhook endpoints (docs/webhooks.md): POST /v1/webhooks registers one,
// GET lists them or reads one, DELETE removes one, and an endpoint's dead
// letters are listed and queued again for delivery. The dispatcher
// (webhooks/) does the delivering; this only records what it reads.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createError, TELLER_ERR_WEBHOOK_FORBIDDEN, TELLER_ERR_WEBHOOK_NOT_FOUND } from '../../../common/errors.js';
import type { WebhookEndpointDoc } from '../../../common/webhooks.js';
import { bodyMayBeOmitted } from '../../json-body.js';
import { problemResponses } from '../../schemas.js';
import type { RegistrationRequest, WebhookRegistry } from '../../webhook-registry.js';
import { deadLetterSchema, deadLetterView, endpointParams, endpointSchema, endpointView, redeliveryBody, registeredSchema, registrationBody } from './webhook-schemas.js';
import { queryValidatorCompiler } from '../../query-validator.js';

export interface WebhookRouteOptions {
  registry: WebhookRegistry;
  /** Whether the caller may act on the account (API keys limited to accounts). */
  mayAccess?: (request: FastifyRequest, accountId: string) => boolean;
  /** Whether the caller may act on every account: needed for an endpoint that receives every account's events. */
  mayAccessEveryAccount?: (request: FastifyRequest) => boolean;
}

// Query strings are text: the dead-letter listing coerces `limit=20` to a number and fills the default (api/query-validator.ts).

const tags = ['webhooks'];
type ById = { Params: { id: string } };

export const webhookRoutes: FastifyPluginAsync<WebhookRouteOptions> = async (app, { registry, mayAccess, mayAccessEveryAccount }) => {
  const { store } = registry;
  /** Whether the caller may see and manage the endpoint: an account's endpoint with that account, every account's with every one. */
  const visible = (request: FastifyRequest, endpoint: Pick<WebhookEndpointDoc, 'accountId'>) =>
    endpoint.accountId === undefined ? (mayAccessEveryAccount?.(request) ?? true) : (mayAccess?.(request, endpoint.accountId) ?? true);
  /** The active endpoint `id`, or 404 (also for one the caller may not see: it learns nothing of it). */
  const endpointOf = async (request: FastifyRequest, id: string) => {
    const endpoint = await store.find(id);
    if (!endpoint || endpoint.state !== 'active' || !visible(request, endpoint)) throw createError(TELLER_ERR_WEBHOOK_NOT_FOUND, { id });
    return endpoint;
  };

  app.post<{ Body: RegistrationRequest }>(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Register a webhook endpoint',
        description:
          'Events published after the registration are posted to `url`, signed with the secret this answers (Standard Webhooks). The same id and body again answers 200 with the same endpoint and secret.',
        body: registrationBody,
        response: {
          200: { description: 'A repeat of the registration: the endpoint as registered (Idempotent-Replayed: true)', ...registeredSchema },
          201: { description: 'Registered (Location: the endpoint)', ...registeredSchema },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      // A body naming an account has been checked against the key already (api/auth.ts); every account's needs a key for all.
      if (request.body.accountId === undefined && mayAccessEveryAccount && !mayAccessEveryAccount(request)) throw createError(TELLER_ERR_WEBHOOK_FORBIDDEN);
      const { created, endpoint } = await registry.register(request.body);
      reply.header('location', `/v1/webhooks/${encodeURIComponent(endpoint._id)}`);
      if (!created) reply.header('idempotent-replayed', 'true');
      return reply.code(created ? 201 : 200).send(endpointView(endpoint, true));
    },
  );

  app.get(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'The webhook endpoints',
        description: 'Every registered endpoint the caller may see, by id, without secrets.',
        response: { 200: { description: 'The endpoints', type: 'object', required: ['data'], properties: { data: { type: 'array', items: endpointSchema } } }, ...problemResponses },
      },
    },
    async (request) => ({ data: (await store.list()).filter((endpoint) => visible(request, endpoint)).map((endpoint) => endpointView(endpoint)) }),
  );

  app.get<ById>(
    '/webhooks/:id',
    { schema: { tags, summary: 'A webhook endpoint', params: endpointParams, response: { 200: { description: 'The endpoint, without its secret', ...endpointSchema }, ...problemResponses } } },
    async (request) => endpointView(await endpointOf(request, request.params.id)),
  );

  app.delete<ById>(
    '/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Delete a webhook endpoint',
        description: 'Nothing more is posted to it once the dispatcher notices (within a couple of seconds); its dead letters go with it. Its id is not used again.',
        params: endpointParams,
        response: { 204: { description: 'Deleted', type: 'null' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await endpointOf(request, id);
      if (!(await store.remove(id, Date.now()))) throw createError(TELLER_ERR_WEBHOOK_NOT_FOUND, { id });
      return reply.code(204).send();
    },
  );

  app.get<ById & { Querystring: { limit: number } }>(
    '/webhooks/:id/dead-letters',
    {
      validatorCompiler: queryValidatorCompiler,
      schema: {
        tags,
        summary: "A webhook endpoint's dead letters",
        description: 'The events the dispatcher gave up on after retrying them for the retry horizon (WEBHOOK_RETRY_HORIZON_SECONDS), oldest first.',
        params: endpointParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Dead letters at most.' } },
        },
        response: {
          200: {
            description: 'The dead letters; `hasMore` when there are more than `limit`',
            type: 'object',
            required: ['data', 'hasMore'],
            properties: { data: { type: 'array', items: deadLetterSchema }, hasMore: { type: 'boolean' } },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const endpoint = await endpointOf(request, request.params.id);
      const letters = await store.deadLetters(endpoint._id, request.query.limit + 1);
      return { data: letters.slice(0, request.query.limit).map(deadLetterView), hasMore: letters.length > request.query.limit };
    },
  );

  app.post<ById & { Body: { eventIds?: string[] } }>(
    '/webhooks/:id/redeliver',
    {
      ...bodyMayBeOmitted,
      schema: {
        tags,
        summary: "Deliver a webhook endpoint's dead letters again",
        description:
          'Marks the dead letters named (or all of them) for redelivery: the dispatcher posts each once more, with its event id, and drops it once delivered; one that fails again stays a dead letter.',
        params: endpointParams,
        body: redeliveryBody,
        response: {
          202: { description: 'Queued', type: 'object', required: ['queued'], properties: { queued: { type: 'integer', description: 'Dead letters marked now.' } } },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const endpoint = await endpointOf(request, request.params.id);
      const queued = await store.markForRedelivery(endpoint._id, request.body.eventIds);
      return reply.code(202).send({ queued });
    },
  );
};

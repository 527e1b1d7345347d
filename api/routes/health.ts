// Liveness and readiness, for NGINX, the supervisor and orchestrators. Public:
// reachable without an API key.
import type { FastifyPluginAsync } from 'fastify';
import { createError, TELLER_ERR_NOT_READY } from '../../common/errors.js';
import type { ReadinessProbe } from '../readiness-probe.js';
import { sendError } from '../problem.js';
import { problemSchema } from '../schemas.js';

const checksSchema = {
  type: 'object',
  additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, error: { type: 'string' } } },
} as const;

export const healthRoutes: FastifyPluginAsync<{ probe: Pick<ReadinessProbe, 'current'> }> = async (app, { probe }) => {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the replica answers',
        security: [],
        response: { 200: { description: 'Alive', type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: Kafka, MongoDB and Redis are reachable from the replica',
        security: [],
        response: {
          200: { description: 'Ready', type: 'object', properties: { status: { type: 'string' }, checks: checksSchema } },
          503: { description: 'Not ready (problem, with the checks)', content: { 'application/problem+json': { schema: problemSchema } } },
        },
      },
    },
    async (_request, reply) => {
      const { ready, checks } = probe.current;
      if (ready) return { status: 'ready', checks };
      // Answered, not thrown: a replica that is not ready is no failed request to log.
      return sendError(reply, createError(TELLER_ERR_NOT_READY, { checks }));
    },
  );
};

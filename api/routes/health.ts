// Liveness and readiness, for NGINX, the supervisor and orchestrators. Public:
// reachable without an API key.
import type { FastifyPluginAsync } from 'fastify';
import type { ReadinessProbe } from '../health.js';
import { problem, sendProblem } from '../problem.js';
import { problemSchema } from '../schemas.js';

const checksSchema = {
  type: 'object',
  additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, error: { type: 'string' } } },
} as const;

export const healthRoutes: FastifyPluginAsync<{ probe: ReadinessProbe }> = async (app, { probe }) => {
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
      const down = Object.keys(checks).filter((k) => !checks[k]?.ok);
      return sendProblem(reply, problem(503, `not ready: ${down.join(', ')} unreachable`, 'not-ready', { checks }));
    },
  );
};

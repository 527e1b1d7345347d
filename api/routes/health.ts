// Liveness and readiness, for NGINX, the supervisor and orchestrators.
import type { FastifyPluginAsync } from 'fastify';
import type { ReadinessProbe } from '../health.js';
import { problem, sendProblem } from '../problem.js';

export const healthRoutes: FastifyPluginAsync<{ probe: ReadinessProbe }> = async (app, { probe }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, checks } = probe.current;
    if (ready) return { status: 'ready', checks };
    const down = Object.keys(checks).filter((k) => !checks[k]?.ok);
    return sendProblem(reply, problem(503, `not ready: ${down.join(', ')} unreachable`, 'not-ready', { checks }));
  });
};

// The app factory: one Fastify instance per api replica, HTTP only. Its
// collaborators (producer, waiter, Redis) are handed in, so tests can build it
// against the real services they start.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { installProblemHandlers } from './problem.js';
import { ajvOptions } from './schemas.js';
import type { ReadinessProbe } from './health.js';
import type { ReadModel } from './readmodel.js';
import type { TransactionSubmitter } from './submit.js';
import { accountRoutes } from './routes/account.js';
import { healthRoutes } from './routes/health.js';
import { transactionRoutes } from './routes/transaction.js';

export interface AppDeps {
  log: Logger;
  bodyLimit: number;
  submitter: TransactionSubmitter;
  readModel: ReadModel;
  probe: ReadinessProbe;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Per-request logs would cost more than the request at benchmark rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit,
    // Above NGINX's upstream keepalive_timeout, so NGINX always closes an idle connection first.
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    ajv: { customOptions: ajvOptions },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  // Only application/json is a transaction; Fastify would also parse text/plain.
  app.removeContentTypeParser('text/plain');
  installProblemHandlers(app);
  await app.register(healthRoutes, { probe: deps.probe });
  await app.register(transactionRoutes, { submitter: deps.submitter });
  await app.register(accountRoutes, { readModel: deps.readModel });
  return app;
}

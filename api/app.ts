// The app factory: one Fastify instance per api replica, HTTP only. Its
// collaborators are handed in: api/main.ts gives the real ones, tests may give
// in-memory ones (test/unit/app-inject.test.ts).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { admissionControl, type Admission } from './admission.js';
import { ApiKeyAuth } from './auth.js';
import { installConnectionDrain } from './connection-drain.js';
import { installJsonBodyParser } from './json-body.js';
import type { AccountHistory } from './account-history.js';
import type { ApiMetrics } from './api-metrics.js';
import type { Cuts } from './cuts.js';
import type { Explanations } from './explanations.js';
import { registerOpenApi } from './openapi.js';
import { MAX_PARAM_LENGTH, frameworkError, installProblemHandlers } from './problem.js';
import { ajvOptions } from './schemas.js';
import type { ReadinessProbe } from './readiness-probe.js';
import type { ReadModel } from './readmodel.js';
import type { Statements } from './statement.js';
import type { TransactionSubmitter } from './submit.js';
import type { WebhookRegistry } from './webhook-registry.js';
import { compatibilityAccountRoutes } from './routes/account.js';
import { eventsSchemaRoutes } from './routes/events-schema.js';
import { healthRoutes } from './routes/health.js';
import { compatibilityTransactionRoutes } from './routes/transaction.js';
import { v1Routes } from './routes/v1/index.js';

export interface AppDeps {
  log: Logger;
  bodyLimit: number;
  submitter: TransactionSubmitter;
  readModel: Pick<ReadModel, 'account' | 'transaction' | 'accountTransaction' | 'settlement'>;
  probe: Pick<ReadinessProbe, 'current'>;
  statements: Pick<Statements, 'page'>;
  /** Accounts as of a time, from the ledger. */
  history: Pick<AccountHistory, 'asOf'>;
  /** Cuts of the committed offsets, and accounts at them. */
  cuts: Pick<Cuts, 'take' | 'get' | 'account'>;
  /** Replays of decisions (GET .../explanation); absent: those routes are not served. */
  explanations?: Pick<Explanations, 'explain'>;
  metrics?: ApiMetrics;
  /** Present when API keys are configured. */
  auth?: ApiKeyAuth;
  /** Webhook endpoints' registration (docs/webhooks.md); without it, /v1/webhooks is not served. */
  webhooks?: WebhookRegistry;
  /** The bound on write calls in flight (api/main.ts always gives one; without it nothing is refused for load). */
  admission?: Admission;
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
    // A valid id is never refused for its length, however it is percent-encoded.
    maxParamLength: MAX_PARAM_LENGTH,
    frameworkErrors: frameworkError,
  });
  // Only application/json is a transaction; Fastify would also parse text/plain.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);
  installProblemHandlers(app);
  installConnectionDrain(app);
  // Hooks on the root instance apply to every route, the 404 handler included.
  deps.auth?.install(app);
  // Before any route: the document is collected from the routes as they are added.
  await registerOpenApi(app, { secured: deps.auth !== undefined });
  deps.metrics?.install(app);
  // Before the routes: it bounds the write routes as they are added.
  if (deps.admission) await app.register(admissionControl, { admission: deps.admission });
  await app.register(healthRoutes, { probe: deps.probe });
  await app.register(eventsSchemaRoutes);
  await app.register(compatibilityTransactionRoutes, { submitter: deps.submitter });
  await app.register(compatibilityAccountRoutes, { readModel: deps.readModel });
  await app.register(v1Routes, {
    prefix: '/v1',
    submitter: deps.submitter,
    readModel: deps.readModel,
    statements: deps.statements,
    history: deps.history,
    cuts: deps.cuts,
    ...(deps.explanations ? { explanations: deps.explanations } : {}),
    mayAccess: ApiKeyAuth.mayAccess,
    mayAccessEveryAccount: ApiKeyAuth.mayAccessEveryAccount,
    ...(deps.webhooks ? { webhooks: deps.webhooks } : {}),
  });
  return app;
}

// The ledger events' JSON Schema (common/events.ts, docs/events.md), the
// contract of the events topic as subscribers read it. Public, like
// /openapi.json: it describes the service, not an account.
import type { FastifyPluginAsync } from 'fastify';
import { LEDGER_EVENT_SCHEMA } from '../../common/events.js';

/** Encoded once: the schema is a constant of the build. */
const DOCUMENT = `${JSON.stringify(LEDGER_EVENT_SCHEMA, null, 2)}\n`;

export const eventsSchemaRoutes: FastifyPluginAsync = async (app) => {
  app.get('/events.schema.json', { schema: { hide: true }, config: { public: true } }, async (_request, reply) =>
    reply.type('application/schema+json').send(DOCUMENT),
  );
};

// The OpenAPI 3 document, generated from the route schemas (the one source of
// truth: what Fastify validates is what the document says), served at
// /openapi.json, and Swagger UI at /docs. The UI's assets are served from the
// @fastify/swagger-ui package itself, so the page works with no network.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export interface OpenApiOptions {
  /** API keys are configured: every route but the public ones needs a bearer key. */
  secured: boolean;
}

export async function registerOpenApi(app: FastifyInstance, o: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Teller',
        // The version of the API (v1 and the compatibility contract), not of the package.
        version: '1.0.0',
        description:
          'A banking transaction API. Amounts are integers in minor units. Every write carries a client transaction id and is applied at most once. Errors are RFC 9457 problems (application/problem+json).',
      },
      tags: [
        { name: 'transactions', description: 'Deposits, withdrawal requests (holds), withdrawals, cancels; a transaction by id' },
        { name: 'transfers', description: 'Money from one account to another, in two legs; a transfer by id' },
        { name: 'accounts', description: 'Account state, settings and statement; the state at a past time or at a cut' },
        { name: 'webhooks', description: 'Endpoints the ledger events are posted to, signed (Standard Webhooks); their dead letters and redelivery' },
        { name: 'compatibility', description: 'The original contract, kept for existing clients and stress tools' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer <key>`' },
        },
      },
      ...(o.secured ? { security: [{ bearerAuth: [] }] } : {}),
    },
    // @fastify/swagger marks every request body required; a route that reads a
    // missing body as `{}` (api/json-body.ts) is marked here, and its body made optional below.
    transform: ({ schema, url, route }) => ({ schema: route.config?.bodyMayBeOmitted ? { ...schema, [OPTIONAL_BODY]: true } : schema, url }),
    transformObject: (document) => ('openapiObject' in document ? withOpenApi30Keywords(withOptionalBodies(document.openapiObject)) : document.swaggerObject),
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No call to the public validator service: the page must work offline.
    uiConfig: { validatorUrl: null, deepLinking: true },
    staticCSP: true,
    transformStaticCSP: (policy) => policy.replace("style-src 'self'", `style-src 'self' ${SWAGGER_LOGO_STYLE}`),
  });
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
}

/**
 * Swagger UI first draws its own logo, an SVG holding an inline <style>, which
 * the page's policy would block (and report) on every load; the page then puts
 * @fastify/swagger-ui's logo in its place. That one style is allowed by its
 * SHA-256, so the page loads with no policy violation
 * (test/integration/docs-page.test.ts asserts it in a browser).
 */
const SWAGGER_LOGO_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

const OPTIONAL_BODY = 'x-teller-body-optional';

type Operation = { requestBody?: { required?: boolean }; [OPTIONAL_BODY]?: boolean };

/** The document with `requestBody.required: false` on each operation marked by `transform`, and the mark removed. */
function withOptionalBodies<Document extends { paths?: object }>(document: Document): Document {
  for (const path of Object.values(document.paths ?? {}) as Record<string, Operation>[]) {
    for (const operation of Object.values(path)) {
      if (!operation[OPTIONAL_BODY]) continue;
      delete operation[OPTIONAL_BODY];
      if (operation.requestBody) operation.requestBody.required = false;
    }
  }
  return document;
}

/**
 * OpenAPI 3.0's schemas have no `propertyNames` (JSON Schema's, which the
 * routes validate metadata keys with): the document carries it as the
 * extension `x-propertyNames`, which 3.0 allows in any schema, so a reader
 * still learns the rule for keys.
 */
function withOpenApi30Keywords<Document extends object>(document: Document): Document {
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) return node.forEach(visit);
    const schema = node as Record<string, unknown>;
    if ('propertyNames' in schema && typeof schema.propertyNames === 'object') {
      schema['x-propertyNames'] = schema.propertyNames;
      delete schema.propertyNames;
    }
    for (const value of Object.values(schema)) visit(value);
  };
  visit(document);
  return document;
}

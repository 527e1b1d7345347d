// RFC 9457 problem details: every error the api returns is one of these, as
// application/problem+json, and none of them changed anything.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

const TITLES: Record<number, [slug: string, title: string]> = {
  400: ['validation-error', 'Bad Request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not Found'],
  405: ['method-not-allowed', 'Method Not Allowed'],
  409: ['id-reused', 'Conflict'],
  413: ['body-too-large', 'Payload Too Large'],
  414: ['uri-too-long', 'URI Too Long'],
  415: ['unsupported-media-type', 'Unsupported Media Type'],
  429: ['rate-limited', 'Too Many Requests'],
  500: ['internal', 'Internal Server Error'],
  503: ['unavailable', 'Service Unavailable'],
};

export function problemType(slug: string): string {
  return `urn:teller:problem:${slug}`;
}

/** A typed error that routes throw; the error handler renders it. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly slug?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export function problem(status: number, detail: string, slug?: string, extensions: Record<string, unknown> = {}): Problem {
  const [defaultSlug, title] = TITLES[status] ?? [`http-${status}`, 'Error'];
  return { type: problemType(slug ?? defaultSlug), title, status, detail, ...extensions };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p);
}

function fromFastifyError(err: FastifyError): Problem {
  if (err.validation) {
    const errors = err.validation.map((v) => ({
      path: `${err.validationContext ?? 'body'}${v.instancePath || ''}`,
      message: v.message ?? 'is invalid',
    }));
    return problem(400, `the ${err.validationContext ?? 'request'} is invalid`, 'validation-error', { errors });
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  // Fastify's own client errors (bad JSON, empty body, media type, size) carry safe messages.
  const detail = status < 500 ? err.message : 'an unexpected error occurred; nothing was applied and a retry with the same id is safe';
  return problem(status, detail);
}

/** Installs problem+json rendering for every error and for unknown routes. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpProblem, request, reply) => {
    const p = err instanceof HttpProblem ? problem(err.status, err.message, err.slug, err.extensions) : fromFastifyError(err);
    if (p.status >= 500) request.log.error({ err }, 'request failed');
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(404, `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/**
 * Errors Fastify raises before routing (a URL it cannot decode, a path
 * parameter over maxParamLength) bypass the error handler; this renders them
 * as problems too (Fastify's `frameworkErrors` option).
 */
export function frameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  void sendProblem(reply, problem(status, err.message));
}

// RFC 9457 problem details: every error the api returns is one of these, as
// application/problem+json, and none of them changed anything. This is the one
// place that knows what an error of the catalogue (common/errors.ts) is in HTTP.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  TellerError,
  TELLER_ERR_ACCOUNT_NOT_FOUND,
  TELLER_ERR_AMBIGUOUS_JSON,
  TELLER_ERR_AS_OF_IN_THE_FUTURE,
  TELLER_ERR_CUT_NOT_FOUND,
  TELLER_ERR_BODY_TOO_DEEP,
  TELLER_ERR_AUTH_INVALID,
  TELLER_ERR_AUTH_MISSING,
  TELLER_ERR_FORBIDDEN,
  TELLER_ERR_EXPLANATIONS_BUSY,
  TELLER_ERR_HISTORY_GONE,
  TELLER_ERR_HOLD_OUTLIVES_ID,
  TELLER_ERR_ID_MISMATCH,
  TELLER_ERR_ID_REQUIRED,
  TELLER_ERR_ID_REUSED_ON_ANOTHER_ACCOUNT,
  TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY,
  TELLER_ERR_INVALID_CURSOR,
  TELLER_ERR_INVALID_DATE_TIME,
  TELLER_ERR_INVALID_TIME_RANGE,
  TELLER_ERR_KEY_LIMITED,
  TELLER_ERR_LEDGER_UNAVAILABLE,
  TELLER_ERR_LOG_UNAVAILABLE,
  TELLER_ERR_NOT_READY,
  TELLER_ERR_NOT_REVERSIBLE,
  TELLER_ERR_OFFSETS_UNAVAILABLE,
  TELLER_ERR_ORIGINAL_NOT_FOUND,
  TELLER_ERR_OVERLOADED,
  TELLER_ERR_PRODUCER_UNAVAILABLE,
  TELLER_ERR_PRODUCER_UNCONFIRMED,
  TELLER_ERR_READ_MODEL_UNAVAILABLE,
  TELLER_ERR_REQUEST_NOT_HELD,
  TELLER_ERR_SETTINGS_REQUIRED,
  TELLER_ERR_TTL_WITHOUT_HOLD,
  TELLER_ERR_STATEMENTS_BUSY,
  TELLER_ERR_TRANSACTION_NOT_FOUND,
  TELLER_ERR_TRANSFER_NOT_FOUND,
  TELLER_ERR_UNKNOWN_FORMAT,
  TELLER_ERR_UNSUPPORTED_CHARSET,
  TELLER_ERR_WEBHOOK_FORBIDDEN,
  TELLER_ERR_WEBHOOK_ID_REUSED,
  TELLER_ERR_WEBHOOK_LIMIT,
  TELLER_ERR_WEBHOOK_NOT_FOUND,
  TELLER_ERR_WEBHOOK_URL_INVALID,
  TELLER_ERR_WEBHOOKS_UNAVAILABLE,
} from '../common/errors.js';
import { lookupIdSchema } from './schemas.js';

/**
 * The longest path parameter routing takes. find-my-way measures a parameter
 * decoded, so a valid id measures its own length, at most a lookup id's 240
 * characters however it was encoded. Three times that leaves room; anything
 * longer is no id.
 */
export const MAX_PARAM_LENGTH = lookupIdSchema.maxLength * 3;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

/** The title of each status, and the problem type of Fastify's own errors of that status. */
const BY_STATUS: Record<number, [slug: string, title: string]> = {
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

export interface ProblemMapping {
  status: number;
  /** The problem type, `urn:teller:problem:<slug>`. */
  slug: string;
  /** Seconds after which a retry may succeed: the `Retry-After` header and the problem's `retryAfter` member. */
  retryAfter?: number;
  headers?: Record<string, string>;
  /** What the client reads instead of the error's own message, when that message speaks of internals. */
  detail?: string;
  /**
   * A refusal that comes in floods when the service is overloaded or Kafka is
   * away: counted by the metrics (and the producer logs its failed sends), not
   * logged once per call, which would spend the CPU the refusal saves.
   */
  quiet?: true;
}

const RETRY_SAFE = 'nothing was accepted and a retry with the same id is safe';
const CHALLENGE = { 'www-authenticate': 'Bearer realm="teller"' };

/** Every code of the catalogue, in HTTP. */
export const PROBLEMS: Readonly<Record<string, ProblemMapping>> = {
  [TELLER_ERR_AMBIGUOUS_JSON.code]: { status: 400, slug: 'ambiguous-json' },
  [TELLER_ERR_BODY_TOO_DEEP.code]: { status: 400, slug: 'body-too-deep' },
  [TELLER_ERR_ID_REQUIRED.code]: { status: 400, slug: 'id-required' },
  [TELLER_ERR_ID_MISMATCH.code]: { status: 400, slug: 'id-mismatch' },
  [TELLER_ERR_INVALID_CURSOR.code]: { status: 400, slug: 'invalid-cursor' },
  [TELLER_ERR_HOLD_OUTLIVES_ID.code]: { status: 400, slug: 'hold-outlives-id' },
  [TELLER_ERR_SETTINGS_REQUIRED.code]: { status: 400, slug: 'settings-required' },
  [TELLER_ERR_TTL_WITHOUT_HOLD.code]: { status: 400, slug: 'ttl-without-hold' },
  [TELLER_ERR_WEBHOOK_URL_INVALID.code]: { status: 400, slug: 'invalid-webhook-url' },
  [TELLER_ERR_INVALID_DATE_TIME.code]: { status: 400, slug: 'invalid-date-time' },
  [TELLER_ERR_AS_OF_IN_THE_FUTURE.code]: { status: 400, slug: 'as-of-in-the-future' },
  [TELLER_ERR_INVALID_TIME_RANGE.code]: { status: 400, slug: 'invalid-time-range' },
  [TELLER_ERR_AUTH_MISSING.code]: { status: 401, slug: 'unauthorized', headers: CHALLENGE },
  [TELLER_ERR_AUTH_INVALID.code]: { status: 401, slug: 'unauthorized', headers: CHALLENGE },
  [TELLER_ERR_FORBIDDEN.code]: { status: 403, slug: 'forbidden' },
  [TELLER_ERR_WEBHOOK_FORBIDDEN.code]: { status: 403, slug: 'forbidden' },
  [TELLER_ERR_KEY_LIMITED.code]: { status: 403, slug: 'key-limited' },
  [TELLER_ERR_REQUEST_NOT_HELD.code]: { status: 404, slug: 'request-not-held' },
  [TELLER_ERR_ACCOUNT_NOT_FOUND.code]: { status: 404, slug: 'account-not-found' },
  [TELLER_ERR_ORIGINAL_NOT_FOUND.code]: { status: 404, slug: 'original-not-found' },
  [TELLER_ERR_NOT_REVERSIBLE.code]: { status: 404, slug: 'not-reversible' },
  [TELLER_ERR_TRANSACTION_NOT_FOUND.code]: { status: 404, slug: 'transaction-not-found' },
  [TELLER_ERR_TRANSFER_NOT_FOUND.code]: { status: 404, slug: 'transfer-not-found' },
  [TELLER_ERR_WEBHOOK_NOT_FOUND.code]: { status: 404, slug: 'webhook-not-found' },
  [TELLER_ERR_CUT_NOT_FOUND.code]: { status: 404, slug: 'cut-not-found' },
  [TELLER_ERR_UNSUPPORTED_CHARSET.code]: { status: 415, slug: 'unsupported-charset' },
  [TELLER_ERR_ID_REUSED_ON_ANOTHER_ACCOUNT.code]: { status: 409, slug: 'id-reused' },
  [TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY.code]: { status: 409, slug: 'id-reused' },
  [TELLER_ERR_WEBHOOK_ID_REUSED.code]: { status: 409, slug: 'id-reused' },
  [TELLER_ERR_WEBHOOK_LIMIT.code]: { status: 409, slug: 'webhook-limit' },
  [TELLER_ERR_HISTORY_GONE.code]: { status: 409, slug: 'history-gone' },
  [TELLER_ERR_PRODUCER_UNAVAILABLE.code]: {
    status: 503,
    slug: 'unavailable',
    retryAfter: 1,
    quiet: true,
    detail: `the transaction log cannot take the call now; ${RETRY_SAFE}`,
  },
  [TELLER_ERR_PRODUCER_UNCONFIRMED.code]: {
    status: 503,
    slug: 'unconfirmed',
    retryAfter: 1,
    detail: 'the transaction log did not confirm the call in time and may still apply it; a retry with the same id is safe and answers its outcome',
  },
  [TELLER_ERR_OVERLOADED.code]: {
    status: 503,
    slug: 'overloaded',
    retryAfter: 1,
    quiet: true,
    detail: `the service is taking more calls than it can answer now; ${RETRY_SAFE}`,
  },
  [TELLER_ERR_READ_MODEL_UNAVAILABLE.code]: { status: 503, slug: 'read-model-unavailable', retryAfter: 1 },
  [TELLER_ERR_LEDGER_UNAVAILABLE.code]: { status: 503, slug: 'ledger-unavailable', retryAfter: 1 },
  [TELLER_ERR_STATEMENTS_BUSY.code]: { status: 503, slug: 'statements-busy', retryAfter: 1 },
  [TELLER_ERR_WEBHOOKS_UNAVAILABLE.code]: { status: 503, slug: 'webhooks-unavailable', retryAfter: 1 },
  [TELLER_ERR_OFFSETS_UNAVAILABLE.code]: { status: 503, slug: 'offsets-unavailable', retryAfter: 1 },
  [TELLER_ERR_EXPLANATIONS_BUSY.code]: { status: 503, slug: 'explanations-busy', retryAfter: 1 },
  [TELLER_ERR_LOG_UNAVAILABLE.code]: { status: 503, slug: 'log-unavailable', retryAfter: 1 },
  [TELLER_ERR_NOT_READY.code]: { status: 503, slug: 'not-ready' },
  [TELLER_ERR_UNKNOWN_FORMAT.code]: { status: 503, slug: 'format-not-readable', retryAfter: 1 },
};

const UNEXPECTED = 'an unexpected error occurred; nothing was applied and a retry with the same id is safe';

function problemType(slug: string): string {
  return `urn:teller:problem:${slug}`;
}

function problem(status: number, detail: string, slug?: string, extensions: Record<string, unknown> = {}): Problem {
  const [defaultSlug, title] = BY_STATUS[status] ?? [`http-${status}`, 'Error'];
  return { type: problemType(slug ?? defaultSlug), title, status, detail, ...extensions };
}

/** The problem a TellerError is in HTTP; a code missing from the table is an unexpected error (500). */
export function problemOf(err: TellerError): Problem {
  const mapping = PROBLEMS[err.code];
  if (!mapping) return problem(500, UNEXPECTED);
  const extensions = mapping.retryAfter === undefined ? err.details : { ...err.details, retryAfter: mapping.retryAfter };
  return problem(mapping.status, mapping.detail ?? err.message, mapping.slug, extensions);
}

/** Answers with the problem of a TellerError, its headers included, without logging it. */
export function sendError(reply: FastifyReply, err: TellerError): FastifyReply {
  return sendProblem(reply.headers(headersOf(err)), problemOf(err));
}

/** The mapping's own headers, and Retry-After (RFC 9110) wherever the problem says when to retry. */
export function headersOf(err: TellerError): Record<string, string> {
  const mapping = PROBLEMS[err.code];
  if (!mapping) return {};
  const headers = { ...mapping.headers };
  if (mapping.retryAfter !== undefined) headers['retry-after'] = String(mapping.retryAfter);
  return headers;
}

function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p);
}

/** 400 `validation-error`: what of the request (`context`: body, params, querystring...) broke its schema, and where. */
function validationProblem(context: string, errors: { path: string; message: string }[]): Problem {
  return problem(400, `the ${context} is invalid`, 'validation-error', { errors });
}

function fromFastifyError(err: FastifyError): Problem {
  if (err.validation) {
    const errors = err.validation.map((v) => ({
      path: `${err.validationContext ?? 'body'}${v.instancePath || ''}`,
      message: v.message ?? 'is invalid',
    }));
    return validationProblem(err.validationContext ?? 'request', errors);
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  // Fastify's own client errors (bad JSON, empty body, media type, size) carry safe messages.
  return problem(status, status < 500 ? err.message : UNEXPECTED);
}

/** Installs problem+json rendering for every error and for unknown routes. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | TellerError, request, reply) => {
    const p = err instanceof TellerError ? problemOf(err) : fromFastifyError(err);
    if (p.status >= 500 && !(err instanceof TellerError && PROBLEMS[err.code]?.quiet)) request.log.error({ err }, 'request failed');
    if (err instanceof TellerError) reply.headers(headersOf(err));
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
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    // Fastify would answer 414 with the whole path in the detail. A parameter
    // this long is longer than any id even percent-encoded (MAX_PARAM_LENGTH),
    // so it is invalid input like any id over its maxLength: 400, every time.
    void sendProblem(reply, validationProblem('params', [{ path: 'params', message: `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` }]));
    return;
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  void sendProblem(reply, problem(status, err.message));
}

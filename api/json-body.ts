// How the api reads an application/json body: with api/strict-json.ts instead
// of JSON.parse, so a body a client may have meant otherwise is refused before
// any route sees it, for the compatibility route and v1 alike:
// 415 unsupported-charset for a charset other than UTF-8, 400 ambiguous-json
// for a key twice, a number that is not an exact integer, a prototype key or
// bytes that are not UTF-8 (and 400 body-too-deep for nesting the reader
// refuses to recurse into). Fastify's body limit still applies (the parser is
// registered without a limit of its own), and an empty or malformed body gets
// Fastify's own answer, as before.
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { createError, TELLER_ERR_AMBIGUOUS_JSON, TELLER_ERR_BODY_TOO_DEEP, TELLER_ERR_UNSUPPORTED_CHARSET } from '../common/errors.js';
import { charsetOf, isUtf8Body, MAX_DEPTH, parseStrictJson, StrictJsonError } from './strict-json.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads a call without a body, or with an empty one, as `{}` (see `bodyMayBeOmitted`). */
    bodyMayBeOmitted?: boolean;
  }
}

// fatal: bytes that are not UTF-8 fail instead of becoming U+FFFD. A leading
// byte order mark is dropped, as Fastify's own parser did.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Replaces Fastify's application/json parser for every route of the app. */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    done(null, readJsonBody(request, body as Buffer));
  });
}

/**
 * Route options of a write whose body may be left out: the cancel, whose one
 * field, `id`, may come as the Idempotency-Key header. A call with neither a
 * body nor a Content-Type never reaches the parser (Fastify runs none), so a
 * hook gives it the empty object too; the body schema still applies.
 */
export const bodyMayBeOmitted = {
  config: { bodyMayBeOmitted: true },
  preValidation: async (request: FastifyRequest): Promise<void> => {
    // No body at all reads as `{}`; a body of JSON `null` is a body, and the schema refuses it.
    if (request.body === undefined) request.body = {};
  },
} as const;

export function readJsonBody(request: FastifyRequest, body: Buffer): unknown {
  const contentType = request.headers['content-type'];
  if (!isUtf8Body(contentType)) throw createError(TELLER_ERR_UNSUPPORTED_CHARSET, { charset: charsetOf(contentType) ?? '' });
  if (body.length === 0) {
    if (request.routeOptions.config?.bodyMayBeOmitted) return {};
    throw new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY();
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw createError(TELLER_ERR_AMBIGUOUS_JSON, { fault: 'not_utf8', reason: 'the body is not valid UTF-8' });
  }
  try {
    return parseStrictJson(text);
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    if (err.fault === 'syntax') throw new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
    if (err.fault === 'too_deep') throw createError(TELLER_ERR_BODY_TOO_DEEP, { maxDepth: MAX_DEPTH });
    throw createError(TELLER_ERR_AMBIGUOUS_JSON, { fault: err.fault, reason: err.message, position: err.position });
  }
}

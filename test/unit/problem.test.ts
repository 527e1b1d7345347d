// The error catalogue (common/errors.ts) in HTTP (api/problem.ts): every code
// has its status and problem type, and those are the ones clients and the
// integration tests know.
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import t from 'tap';
import { headersOf, installProblemHandlers, PROBLEMS, problemOf } from '../../api/problem.js';
import * as catalogue from '../../common/errors.js';
import { createError, TellerError, type ErrorSpec } from '../../common/errors.js';

const entries = Object.entries(catalogue as Record<string, unknown>).filter(
  (exported): exported is [string, ErrorSpec] => typeof exported[1] === 'object' && typeof (exported[1] as { code?: unknown }).code === 'string',
);

t.test('every catalogue entry is exported under its own code and maps to a status', async (t) => {
  t.ok(entries.length >= 15, `the catalogue is found (${entries.length} entries)`);
  for (const [name, entry] of entries) {
    t.equal(entry.code, name, `${name}: exported under its code`);
    t.match(entry.code, /^TELLER_ERR_[A-Z_]+$/);
    const mapping = PROBLEMS[entry.code];
    t.ok(mapping, `${entry.code} is mapped`);
    if (!mapping) continue;
    // A refusal is the client's to fix (4xx); what a retry can cure is ours (5xx).
    t.equal(mapping.status >= 500, entry.retryable, `${entry.code}: ${mapping.status} matches retryable=${entry.retryable}`);
    const problem = problemOf(new TellerError(entry, 'a message'));
    t.match(problem, { type: `urn:teller:problem:${mapping.slug}`, status: mapping.status, title: String });
    t.not(problem.title, 'Error', `${entry.code}: its status has a title`);
  }
});

t.test('the statuses and problem types clients depend on', async (t) => {
  const expected: [ErrorSpec, number, string][] = [
    [catalogue.TELLER_ERR_AMBIGUOUS_JSON, 400, 'ambiguous-json'],
    [catalogue.TELLER_ERR_BODY_TOO_DEEP, 400, 'body-too-deep'],
    [catalogue.TELLER_ERR_ID_REQUIRED, 400, 'id-required'],
    [catalogue.TELLER_ERR_ID_MISMATCH, 400, 'id-mismatch'],
    [catalogue.TELLER_ERR_INVALID_CURSOR, 400, 'invalid-cursor'],
    [catalogue.TELLER_ERR_HOLD_OUTLIVES_ID, 400, 'hold-outlives-id'],
    [catalogue.TELLER_ERR_SETTINGS_REQUIRED, 400, 'settings-required'],
    [catalogue.TELLER_ERR_TTL_WITHOUT_HOLD, 400, 'ttl-without-hold'],
    [catalogue.TELLER_ERR_INVALID_DATE_TIME, 400, 'invalid-date-time'],
    [catalogue.TELLER_ERR_AS_OF_IN_THE_FUTURE, 400, 'as-of-in-the-future'],
    [catalogue.TELLER_ERR_INVALID_TIME_RANGE, 400, 'invalid-time-range'],
    [catalogue.TELLER_ERR_AUTH_MISSING, 401, 'unauthorized'],
    [catalogue.TELLER_ERR_AUTH_INVALID, 401, 'unauthorized'],
    [catalogue.TELLER_ERR_FORBIDDEN, 403, 'forbidden'],
    [catalogue.TELLER_ERR_KEY_LIMITED, 403, 'key-limited'],
    [catalogue.TELLER_ERR_REQUEST_NOT_HELD, 404, 'request-not-held'],
    [catalogue.TELLER_ERR_ORIGINAL_NOT_FOUND, 404, 'original-not-found'],
    [catalogue.TELLER_ERR_NOT_REVERSIBLE, 404, 'not-reversible'],
    [catalogue.TELLER_ERR_ACCOUNT_NOT_FOUND, 404, 'account-not-found'],
    [catalogue.TELLER_ERR_TRANSACTION_NOT_FOUND, 404, 'transaction-not-found'],
    [catalogue.TELLER_ERR_TRANSFER_NOT_FOUND, 404, 'transfer-not-found'],
    [catalogue.TELLER_ERR_CUT_NOT_FOUND, 404, 'cut-not-found'],
    [catalogue.TELLER_ERR_UNSUPPORTED_CHARSET, 415, 'unsupported-charset'],
    [catalogue.TELLER_ERR_ID_REUSED_ON_ANOTHER_ACCOUNT, 409, 'id-reused'],
    [catalogue.TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, 409, 'id-reused'],
    [catalogue.TELLER_ERR_HISTORY_GONE, 409, 'history-gone'],
    [catalogue.TELLER_ERR_PRODUCER_UNAVAILABLE, 503, 'unavailable'],
    [catalogue.TELLER_ERR_PRODUCER_UNCONFIRMED, 503, 'unconfirmed'],
    [catalogue.TELLER_ERR_OVERLOADED, 503, 'overloaded'],
    [catalogue.TELLER_ERR_STATEMENTS_BUSY, 503, 'statements-busy'],
    [catalogue.TELLER_ERR_OFFSETS_UNAVAILABLE, 503, 'offsets-unavailable'],
    [catalogue.TELLER_ERR_EXPLANATIONS_BUSY, 503, 'explanations-busy'],
    [catalogue.TELLER_ERR_LOG_UNAVAILABLE, 503, 'log-unavailable'],
    [catalogue.TELLER_ERR_READ_MODEL_UNAVAILABLE, 503, 'read-model-unavailable'],
    [catalogue.TELLER_ERR_LEDGER_UNAVAILABLE, 503, 'ledger-unavailable'],
    [catalogue.TELLER_ERR_NOT_READY, 503, 'not-ready'],
    [catalogue.TELLER_ERR_UNKNOWN_FORMAT, 503, 'format-not-readable'],
    [catalogue.TELLER_ERR_WEBHOOK_URL_INVALID, 400, 'invalid-webhook-url'],
    [catalogue.TELLER_ERR_WEBHOOK_FORBIDDEN, 403, 'forbidden'],
    [catalogue.TELLER_ERR_WEBHOOK_NOT_FOUND, 404, 'webhook-not-found'],
    [catalogue.TELLER_ERR_WEBHOOK_ID_REUSED, 409, 'id-reused'],
    [catalogue.TELLER_ERR_WEBHOOK_LIMIT, 409, 'webhook-limit'],
    [catalogue.TELLER_ERR_WEBHOOKS_UNAVAILABLE, 503, 'webhooks-unavailable'],
  ];
  t.equal(expected.length, entries.length, 'every entry is listed here');
  for (const [entry, status, slug] of expected) {
    t.match(problemOf(new TellerError(entry, 'm')), { status, type: `urn:teller:problem:${slug}` }, entry.code);
  }
  t.match(problemOf(createError(catalogue.TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY, { id: 'x' })), { title: 'Conflict' });
});

t.test('the problem body: the message as detail, details and retryAfter as members', async (t) => {
  t.same(problemOf(createError(catalogue.TELLER_ERR_FORBIDDEN, { accountId: 'a-1' })), {
    type: 'urn:teller:problem:forbidden',
    title: 'Forbidden',
    status: 403,
    detail: 'this API key may not act on account a-1',
  });
  t.same(problemOf(createError(catalogue.TELLER_ERR_READ_MODEL_UNAVAILABLE)), {
    type: 'urn:teller:problem:read-model-unavailable',
    title: 'Service Unavailable',
    status: 503,
    detail: 'account state is being restored; retry shortly',
    retryAfter: 1,
  });
  const checks = { kafka: { ok: true }, redis: { ok: false, error: 'refused' } };
  t.same(problemOf(createError(catalogue.TELLER_ERR_NOT_READY, { checks })), {
    type: 'urn:teller:problem:not-ready',
    title: 'Service Unavailable',
    status: 503,
    detail: 'not ready: redis unreachable',
    checks,
  });
});

t.test("the producer's reason stays in the logs: the client reads that a retry is safe", async (t) => {
  const err = createError(catalogue.TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'queue_full' });
  t.match(err.message, /queue_full/);
  t.same(problemOf(err), {
    type: 'urn:teller:problem:unavailable',
    title: 'Service Unavailable',
    status: 503,
    detail: 'the transaction log cannot take the call now; nothing was accepted and a retry with the same id is safe',
    retryAfter: 1,
  });
});

t.test('a code outside the table is an unexpected error, its message not shown', async (t) => {
  const problem = problemOf(new TellerError({ code: 'TELLER_ERR_SOMETHING_ELSE', retryable: false }, 'internal detail'));
  t.match(problem, { status: 500, type: 'urn:teller:problem:internal', title: 'Internal Server Error' });
  t.notMatch(problem.detail, /internal detail/);
});

t.test('a problem that says when to retry says it in Retry-After too, and only such a problem', async (t) => {
  for (const [code, mapping] of Object.entries(PROBLEMS)) {
    const headers = headersOf(new TellerError({ code, retryable: mapping.status >= 500 }, 'm'));
    if (mapping.retryAfter === undefined) t.equal(headers['retry-after'], undefined, `${code}: no Retry-After`);
    else t.equal(headers['retry-after'], String(mapping.retryAfter), `${code}: Retry-After ${mapping.retryAfter}`);
  }
  t.same(headersOf(createError(catalogue.TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'queue_full' })), { 'retry-after': '1' });
  t.same(headersOf(createError(catalogue.TELLER_ERR_AUTH_MISSING)), { 'www-authenticate': 'Bearer realm="teller"' }, 'the mapping\'s own headers stay');
});

t.test('an ambiguous body: the detail says which fault and where', async (t) => {
  const err = createError(catalogue.TELLER_ERR_AMBIGUOUS_JSON, { fault: 'duplicate_key', reason: 'the key "amount" appears twice in one object at position 12', position: 12 });
  t.same(problemOf(err), {
    type: 'urn:teller:problem:ambiguous-json',
    title: 'Bad Request',
    status: 400,
    detail: 'the body is ambiguous JSON: the key "amount" appears twice in one object at position 12',
    fault: 'duplicate_key',
    position: 12,
  });
});

t.test('an overload refusal: 503 overloaded, its reason, Retry-After', async (t) => {
  const err = createError(catalogue.TELLER_ERR_OVERLOADED, { reason: 'calls_in_flight' });
  t.match(err.message, /MAX_CALLS_IN_FLIGHT/, 'the log says which limit');
  t.same(problemOf(err), {
    type: 'urn:teller:problem:overloaded',
    title: 'Service Unavailable',
    status: 503,
    detail: 'the service is taking more calls than it can answer now; nothing was accepted and a retry with the same id is safe',
    reason: 'calls_in_flight',
    retryAfter: 1,
  });
  t.same(headersOf(err), { 'retry-after': '1' });
});

t.test('refusals that come in floods are not logged one by one; other failures are', async (t) => {
  const lines: { msg?: string; err?: { code?: string } }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger });
  installProblemHandlers(app);
  const thrown = {
    overloaded: createError(catalogue.TELLER_ERR_OVERLOADED, { reason: 'producer_queue' }),
    unsent: createError(catalogue.TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'queue_full' }),
    'read-model': createError(catalogue.TELLER_ERR_READ_MODEL_UNAVAILABLE),
  };
  app.get('/:which', async (request) => {
    throw thrown[(request.params as { which: keyof typeof thrown }).which];
  });
  t.teardown(() => app.close());
  for (const which of Object.keys(thrown)) t.equal((await app.inject({ method: 'GET', url: `/${which}` })).statusCode, 503, which);
  const failed = lines.filter((l) => l.msg === 'request failed').map((l) => l.err?.code);
  t.same(failed, ['TELLER_ERR_READ_MODEL_UNAVAILABLE'], 'only the unexpected failure is logged');
});

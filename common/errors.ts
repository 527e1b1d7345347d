// The catalogue of Teller's errors, in the manner of fastify's lib/errors.js:
// every error a service raises is a TellerError with a stable code, a message
// and whether trying again can help. Services throw these and know nothing of
// HTTP; api/problem.ts alone maps a code to a status and a problem type. The
// entries of the reads of the past and of webhooks live in modules of their own.

export interface ErrorSpec {
  /** The stable code, `TELLER_ERR_*`: what logs, tests and the HTTP mapping key on. */
  code: string;
  /** Whether the same call may succeed later (a component down, a queue full). */
  retryable: boolean;
}

export class TellerError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  /** Facts about this occurrence that a client may be shown (the problem's extension members). */
  readonly details: Record<string, unknown>;

  constructor(spec: ErrorSpec, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TellerError';
    this.code = spec.code;
    this.retryable = spec.retryable;
    this.details = details;
  }
}

/**
 * Whether an error is worth another try. Teller's own errors say so; any
 * other error (a refused connection, a driver's timeout) is taken as
 * transient, which is what every backoff loop in Teller wants by default.
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof TellerError ? err.retryable : true;
}

export function hasCode(err: unknown, code: string): err is TellerError {
  return err instanceof TellerError && err.code === code;
}

/**
 * One entry of the catalogue: its code, its retryability, and how its message
 * reads from the facts of an occurrence (`void` for an error that needs none).
 */
export interface CatalogueEntry<Facts = void> extends ErrorSpec {
  message: (facts: Facts) => string;
  /** The facts a client is shown beside the message (the problem's extension members). */
  details?: (facts: Facts) => Record<string, unknown>;
}

/** The error of a catalogue entry: `throw createError(TELLER_ERR_FORBIDDEN, { accountId })`. */
export function createError(entry: CatalogueEntry): TellerError;
export function createError<Facts>(entry: CatalogueEntry<Facts>, facts: Facts): TellerError;
export function createError<Facts>(entry: CatalogueEntry<Facts>, facts?: Facts): TellerError {
  return new TellerError(entry, entry.message(facts as Facts), entry.details?.(facts as Facts) ?? {});
}

// Refusals of the call itself: the same call can never succeed.

export const TELLER_ERR_ID_REQUIRED: CatalogueEntry = {
  code: 'TELLER_ERR_ID_REQUIRED',
  retryable: false,
  message: () => 'a transaction id is required: `id` in the body or the Idempotency-Key header',
};

export const TELLER_ERR_ID_MISMATCH: CatalogueEntry = {
  code: 'TELLER_ERR_ID_MISMATCH',
  retryable: false,
  message: () => 'the body id and the Idempotency-Key header differ; send one, or the same value in both',
};

/** Caught by the api's registry of ids across accounts, before the call reaches the log. */
export const TELLER_ERR_ID_REUSED_ON_ANOTHER_ACCOUNT: CatalogueEntry<{ id: string }> = {
  code: 'TELLER_ERR_ID_REUSED_ON_ANOTHER_ACCOUNT',
  retryable: false,
  message: ({ id }) => `transaction id ${id} was already used on another account`,
};

/** The ledger's `conflict`: the account's owner holds this id with another body. */
export const TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY: CatalogueEntry<{ id: string }> = {
  code: 'TELLER_ERR_ID_REUSED_WITH_ANOTHER_BODY',
  retryable: false,
  message: ({ id }) => `transaction id ${id} was already used with another body`,
};

/** The ledger's `not_found` for a cancel. */
export const TELLER_ERR_REQUEST_NOT_HELD: CatalogueEntry<{ requestId: string | undefined }> = {
  code: 'TELLER_ERR_REQUEST_NOT_HELD',
  retryable: false,
  message: ({ requestId }) => `withdrawal request ${requestId ?? ''} holds no funds: never approved, already settled, cancelled or expired`,
};

/** The ledger's `not_found` for a reversal whose original the account does not remember (docs/transfers.md, Reversals). */
export const TELLER_ERR_ORIGINAL_NOT_FOUND: CatalogueEntry<{ requestId: string | undefined }> = {
  code: 'TELLER_ERR_ORIGINAL_NOT_FOUND',
  retryable: false,
  message: ({ requestId }) => `transaction ${requestId ?? ''} is not known to its account: never decided there, not decided yet, or past the id window`,
  details: ({ requestId }) => ({ requestId, reason: 'original_not_found' }),
};

/** The ledger's `not_found` for a reversal of something other than an applied deposit, withdrawal or completed transfer. */
export const TELLER_ERR_NOT_REVERSIBLE: CatalogueEntry<{ requestId: string | undefined }> = {
  code: 'TELLER_ERR_NOT_REVERSIBLE',
  retryable: false,
  message: ({ requestId }) => `transaction ${requestId ?? ''} cannot be reversed: only an applied deposit, an applied withdrawal or a completed transfer can`,
  details: ({ requestId }) => ({ requestId, reason: 'not_reversible' }),
};

/**
 * A withdrawal request asking for a hold that would outlive its id: once the
 * id leaves the window, a retry of the request would be a new request and
 * hold the funds a second time while the first hold still stands.
 */
export const TELLER_ERR_HOLD_OUTLIVES_ID: CatalogueEntry<{ expiresInSeconds: number; idWindowSeconds: number }> = {
  code: 'TELLER_ERR_HOLD_OUTLIVES_ID',
  retryable: false,
  message: ({ expiresInSeconds, idWindowSeconds }) =>
    `expiresInSeconds ${expiresInSeconds} is longer than the ${idWindowSeconds} s an id is remembered (ID_WINDOW_SECONDS): a hold must not outlive its id`,
  details: ({ idWindowSeconds }) => ({ maxExpiresInSeconds: idWindowSeconds }),
};

export const TELLER_ERR_ACCOUNT_NOT_FOUND: CatalogueEntry<{ accountId: string }> = {
  code: 'TELLER_ERR_ACCOUNT_NOT_FOUND',
  retryable: false,
  message: ({ accountId }) => `account ${accountId} has no transactions`,
};

export const TELLER_ERR_TRANSACTION_NOT_FOUND: CatalogueEntry<{ id: string }> = {
  code: 'TELLER_ERR_TRANSACTION_NOT_FOUND',
  retryable: false,
  message: ({ id }) => `no transaction ${id}`,
};

/** A transfer no registry entry nor ledger document names (docs/transfers.md). */
export const TELLER_ERR_TRANSFER_NOT_FOUND: CatalogueEntry<{ id: string }> = {
  code: 'TELLER_ERR_TRANSFER_NOT_FOUND',
  retryable: false,
  message: ({ id }) => `no transfer ${id}`,
};

/** A settings change that names no setting: it would change nothing, and its id would be spent. */
export const TELLER_ERR_SETTINGS_REQUIRED: CatalogueEntry = {
  code: 'TELLER_ERR_SETTINGS_REQUIRED',
  retryable: false,
  message: () => 'name at least one setting to change: overdraftLimit or status',
};

/** A time to live on a transfer that holds nothing: only a two-phase transfer (`pending: true`) has a hold to lapse. */
export const TELLER_ERR_TTL_WITHOUT_HOLD: CatalogueEntry = {
  code: 'TELLER_ERR_TTL_WITHOUT_HOLD',
  retryable: false,
  message: () => 'expiresInSeconds is a hold\'s time to live: only a two-phase transfer (pending: true) holds its amount',
};

export const TELLER_ERR_INVALID_CURSOR: CatalogueEntry = {
  code: 'TELLER_ERR_INVALID_CURSOR',
  retryable: false,
  message: () => 'the cursor `after` is not one this api returned',
};

export const TELLER_ERR_AUTH_MISSING: CatalogueEntry = {
  code: 'TELLER_ERR_AUTH_MISSING',
  retryable: false,
  message: () => 'an API key is required: Authorization: Bearer <key>',
};

export const TELLER_ERR_AUTH_INVALID: CatalogueEntry = {
  code: 'TELLER_ERR_AUTH_INVALID',
  retryable: false,
  message: () => 'the API key is not valid',
};

export const TELLER_ERR_FORBIDDEN: CatalogueEntry<{ accountId: string }> = {
  code: 'TELLER_ERR_FORBIDDEN',
  retryable: false,
  message: ({ accountId }) => `this API key may not act on account ${accountId}`,
};

/**
 * A cut reads every partition's committed offset, which tells how much the
 * whole ledger has taken in: a key limited to some accounts may not take or
 * read one, only an account's balance at one.
 */
export const TELLER_ERR_KEY_LIMITED: CatalogueEntry = {
  code: 'TELLER_ERR_KEY_LIMITED',
  retryable: false,
  message: () => 'this API key is limited to some accounts; cuts are taken and read with a key for every account',
};

/**
 * A body that JSON.parse would read one way and its sender may have meant
 * another (api/strict-json.ts): a key twice in one object, a number with a
 * fraction, an exponent or larger in magnitude than 2^53 - 1, a key that
 * would change the object's prototype, bytes that are not UTF-8.
 */
export const TELLER_ERR_AMBIGUOUS_JSON: CatalogueEntry<{ fault: string; reason: string; position?: number }> = {
  code: 'TELLER_ERR_AMBIGUOUS_JSON',
  retryable: false,
  message: ({ reason }) => `the body is ambiguous JSON: ${reason}`,
  details: ({ fault, position }) => (position === undefined ? { fault } : { fault, position }),
};

/** A JSON body that nests deeper than any Teller takes (api/strict-json.ts, MAX_DEPTH). */
export const TELLER_ERR_BODY_TOO_DEEP: CatalogueEntry<{ maxDepth: number }> = {
  code: 'TELLER_ERR_BODY_TOO_DEEP',
  retryable: false,
  message: ({ maxDepth }) => `arrays and objects in the body nest deeper than ${maxDepth} levels`,
};

/** A JSON body declared in a charset other than UTF-8, which Teller would otherwise read as UTF-8. */
export const TELLER_ERR_UNSUPPORTED_CHARSET: CatalogueEntry<{ charset: string }> = {
  code: 'TELLER_ERR_UNSUPPORTED_CHARSET',
  retryable: false,
  message: ({ charset }) => `the body is declared as charset=${charset}; JSON bodies are read as UTF-8 only (RFC 8259)`,
  details: ({ charset }) => ({ charset }),
};

// A component cannot serve the call now: nothing was applied, and the same
// call (same id) may succeed in a moment.

/** The batching producer refused the message before sending it: Kafka holds nothing of it. `reason` says which of its guards. */
export const TELLER_ERR_PRODUCER_UNAVAILABLE: CatalogueEntry<{ reason: string }> = {
  code: 'TELLER_ERR_PRODUCER_UNAVAILABLE',
  retryable: true,
  message: ({ reason }) => `the message was not accepted: ${reason}`,
};

/**
 * The batching producer sent the message, and Kafka did not confirm it in
 * time: it may still be written, and then decided. The call is not refused
 * for certain, so its id stays registered; a retry with the same id answers
 * its outcome either way.
 */
export const TELLER_ERR_PRODUCER_UNCONFIRMED: CatalogueEntry<{ reason: string }> = {
  code: 'TELLER_ERR_PRODUCER_UNCONFIRMED',
  retryable: true,
  message: ({ reason }) => `the message was sent and not confirmed: ${reason}`,
};

/**
 * The replica refused a write before taking it (api/admission.ts): it has as
 * many calls in flight as it may (`calls_in_flight`, MAX_CALLS_IN_FLIGHT), or
 * its producer's queue is past its high-water mark (`producer_queue`).
 * Nothing was read past the headers, nothing claimed or produced.
 */
export const TELLER_ERR_OVERLOADED: CatalogueEntry<{ reason: 'calls_in_flight' | 'producer_queue' }> = {
  code: 'TELLER_ERR_OVERLOADED',
  retryable: true,
  message: ({ reason }) => `the replica refused the call unread: ${reason === 'calls_in_flight' ? 'its calls in flight are at MAX_CALLS_IN_FLIGHT' : "its producer's queue is past its high-water mark"}`,
  details: ({ reason }) => ({ reason }),
};

/** Redis is unreachable, or does not hold the whole state of the account's partition yet. */
export const TELLER_ERR_READ_MODEL_UNAVAILABLE: CatalogueEntry = {
  code: 'TELLER_ERR_READ_MODEL_UNAVAILABLE',
  retryable: true,
  message: () => 'account state is being restored; retry shortly',
};

/** The ledger could not be read: MongoDB unreachable, or the statement's scan ran past its time limit. */
export const TELLER_ERR_LEDGER_UNAVAILABLE: CatalogueEntry = {
  code: 'TELLER_ERR_LEDGER_UNAVAILABLE',
  retryable: true,
  message: () => 'the ledger cannot be read now; retry shortly',
};

/**
 * The replica's queue of ledger reads (statements, balances as of a time or a
 * cut) is full, or a read waited in it past its deadline.
 */
export const TELLER_ERR_STATEMENTS_BUSY: CatalogueEntry = {
  code: 'TELLER_ERR_STATEMENTS_BUSY',
  retryable: true,
  message: () => 'too many statements and balances from the ledger are being read on this replica; retry shortly',
};

/** The replica's readiness: some dependency does not answer its probe. */
export const TELLER_ERR_NOT_READY: CatalogueEntry<{ checks: Record<string, { ok: boolean; error?: string }> }> = {
  code: 'TELLER_ERR_NOT_READY',
  retryable: true,
  message: ({ checks }) => `not ready: ${Object.keys(checks).filter((name) => !checks[name]?.ok).join(', ')} unreachable`,
  details: ({ checks }) => ({ checks }),
};

/**
 * Data written in a format this code does not know (a newer Teller wrote it).
 * Read by guesswork it could yield a wrong balance or a wrong outcome; refused,
 * it only waits for this process to be upgraded, which is why it counts as
 * retryable: a consumer keeps trying its load, and a client gets a 503.
 */
export const TELLER_ERR_UNKNOWN_FORMAT: CatalogueEntry<{ what: string; found: unknown; known: readonly number[] }> = {
  code: 'TELLER_ERR_UNKNOWN_FORMAT',
  retryable: true,
  message: ({ what, found, known }) =>
    `${what} is in format ${JSON.stringify(found)}; this code reads formats ${known.join(', ')} only, and refuses rather than guesses`,
  details: ({ what, found, known }) => ({ what, found, known }),
};
export * from './errors-history.js';
export * from './errors-webhooks.js';

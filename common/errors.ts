// The catalogue of Teller's errors, in the manner of fastify's lib/errors.js:
// every error a service raises is a TellerError with a stable code, a message
// and whether trying again can help. Services throw these and know nothing of
// HTTP; api/problem.ts alone maps a code to a status and a problem type.

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

// What a versioned contract (common/read-model.ts, consumer/snapshot-format.ts)
// does with data written in a version it does not know: it refuses it. Such
// data comes from newer code; read by guesswork it could yield a wrong
// balance or a wrong outcome, where a refusal only waits for that code.
import { TellerError, type ErrorSpec } from './errors.js';

/** Reading again cannot help: the same bytes stay in the same unknown version. */
export const UNKNOWN_FORMAT: ErrorSpec = { code: 'TELLER_ERR_UNKNOWN_FORMAT', retryable: false };

/** `found` is the version that `what` declares; `known` the versions this code reads. */
export function unknownFormat(what: string, found: unknown, known: readonly number[]): TellerError {
  return new TellerError(
    UNKNOWN_FORMAT,
    `${what} is in format ${JSON.stringify(found)}; this code reads formats ${known.join(', ')} only, and refuses rather than guesses`,
    { what, found, known },
  );
}

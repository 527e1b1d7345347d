// What a versioned contract (common/read-model.ts, consumer/snapshot-format.ts)
// does with data written in a version it does not know: it refuses it
// (TELLER_ERR_UNKNOWN_FORMAT in common/errors.ts says why).
import { createError, TELLER_ERR_UNKNOWN_FORMAT, type TellerError } from './errors.js';

/** `found` is the version that `what` declares; `known` the versions this code reads. */
export function unknownFormat(what: string, found: unknown, known: readonly number[]): TellerError {
  return createError(TELLER_ERR_UNKNOWN_FORMAT, { what, found, known });
}

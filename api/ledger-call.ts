// One answer for a ledger read or write that fails: Teller's own refusals
// (a snapshot in a format this code does not read, a cut that is not there)
// say what they are; any other failure of MongoDB is 503 `ledger-unavailable`,
// which a client retries.
import { createError, TellerError, TELLER_ERR_LEDGER_UNAVAILABLE } from '../common/errors.js';

export async function ledgerCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof TellerError) throw err;
    throw createError(TELLER_ERR_LEDGER_UNAVAILABLE);
  }
}

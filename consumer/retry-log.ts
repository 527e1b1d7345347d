// The warning a backoff loop of the consumer logs before each wait: what
// failed, why, and how long until the next try.
import type { Logger } from 'pino';
import type { RetryFailure } from '../common/retry.js';

export function warnBeforeRetry(log: Logger, message: string, fields: Record<string, unknown> = {}): (failure: RetryFailure) => void {
  return ({ what, err, retryInMs }) => log.warn({ what, ...fields, err: (err as Error).message, retryInMs }, message);
}

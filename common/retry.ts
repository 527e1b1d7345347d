// One backoff loop for every "try again until it works" in Teller: connecting
// to a component that is still starting, a write that a component refused for
// a moment. Delays double from `firstDelayMs` up to `maxDelayMs`. An error the
// catalogue marks as not retryable (common/errors.ts) ends the loop at once, as
// does `stop()` answering true, so a stopping process is never held by it.
import { isRetryable } from './errors.js';

export interface RetryOptions {
  /** What is being tried, for the log line of each failure. */
  what: string;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Gives up (the error is thrown) once the loop has run this long. */
  giveUpAfterMs?: number;
  /** True when the caller no longer wants the result: the last error is thrown. */
  stop?: () => boolean;
  /** Told each failure before the wait: usually a warning in the log. */
  onFailure?: (failure: RetryFailure) => void;
}

export interface RetryFailure {
  what: string;
  err: unknown;
  attempt: number;
  retryInMs: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The delay before try `attempt + 1` (attempts count from 0). */
export function backoffDelay(attempt: number, firstDelayMs: number, maxDelayMs: number): number {
  return Math.min(firstDelayMs * 2 ** Math.min(attempt, 30), maxDelayMs);
}

/** Runs `work` until it resolves, waiting longer after each failure. */
export async function retry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { firstDelayMs = 100, maxDelayMs = 5000 } = options;
  const giveUpAt = options.giveUpAfterMs === undefined ? Infinity : Date.now() + options.giveUpAfterMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await work(attempt);
    } catch (err) {
      if (!isRetryable(err) || options.stop?.() || Date.now() >= giveUpAt) throw err;
      const retryInMs = backoffDelay(attempt, firstDelayMs, maxDelayMs);
      options.onFailure?.({ what: options.what, err, attempt, retryInMs });
      await sleep(retryInMs);
    }
  }
}

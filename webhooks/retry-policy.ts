// When a failed delivery is tried again (docs/webhooks.md, Retries): after
// the nth failure of an event, a random wait up to min(cap, base x 2^(n-1))
// (exponential backoff with full jitter, so endpoints that failed together do
// not all come back at once), for as long as the account's deliveries to the
// endpoint have been failing for less than the horizon.

export interface RetryPolicy {
  /** WEBHOOK_BACKOFF_BASE_MS: the first wait's ceiling. */
  baseMs: number;
  /** WEBHOOK_BACKOFF_CAP_MS: no wait's ceiling is above it. */
  capMs: number;
  /** WEBHOOK_RETRY_HORIZON_SECONDS, in milliseconds: failing this long, an event is dead-lettered. */
  horizonMs: number;
}

/** The most the wait after failure number `failures` (1 for the first) may be. */
export function backoffCeiling(failures: number, policy: Pick<RetryPolicy, 'baseMs' | 'capMs'>): number {
  // 2^40 x any base is past any cap this configuration allows; the exponent is bounded so the product stays finite.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 40));
}

/** The wait after failure number `failures`: uniform in [0, ceiling), `random` in [0, 1). */
export function retryDelay(failures: number, policy: Pick<RetryPolicy, 'baseMs' | 'capMs'>, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(failures, policy));
}

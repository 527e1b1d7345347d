// Polls a condition until it holds or a deadline passes: readiness is always
// waited for, never assumed after a fixed sleep.

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Named in the error when the deadline passes. */
  what: string;
  /** Stops waiting early, e.g. when the process being waited for has exited. */
  abort?: () => string | undefined;
}

export class WaitTimeout extends Error {
  constructor(what: string, timeoutMs: number, lastError?: unknown) {
    const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
    super(`${what} not ready after ${timeoutMs} ms${cause}`);
    this.name = 'WaitTimeout';
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves with the first truthy value of `probe`; a throwing probe counts as not yet. */
export async function waitFor<T>(probe: () => Promise<T> | T, opts: WaitOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = opts.abort?.();
    if (aborted) throw new Error(`${opts.what}: ${aborted}`);
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) throw new WaitTimeout(opts.what, opts.timeoutMs, lastError);
    await sleep(opts.intervalMs ?? 250);
  }
}

/** Rejects when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

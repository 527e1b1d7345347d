/**
 * Wraps periodic async work so a call made while the previous one is still
 * running is skipped rather than started beside it: a timer that fires every
 * second must not stack up rounds of work that take longer than that.
 * Resolves to whether this call ran the work.
 */
export function oneAtATime(work: () => Promise<void>): () => Promise<boolean> {
  let running = false;
  return async () => {
    if (running) return false;
    running = true;
    try {
      await work();
      return true;
    } finally {
      running = false;
    }
  };
}

// Which consumers of a running stack apply partitions now: with ACTIVE_CONSUMERS
// below the consumer count the others stand by, and a fault meant to cost the
// ledger its owner has to hit one that owns something. Read from each
// consumer's metrics port (teller_consumer_partitions_owned).
import type { StackInfo } from './stackfile.js';
import { waitFor } from './wait.js';

const OWNED = /^teller_consumer_partitions_owned(?:\{[^}]*\})? (\d+)$/m;

/** Partitions owned by each consumer that answered its metrics port. */
export async function partitionsOwned(stack: StackInfo): Promise<Map<string, number>> {
  const consumers = stack.components.filter((c) => c.kind === 'consumer' && c.port);
  const counts = await Promise.all(
    consumers.map(async (c) => {
      try {
        const res = await fetch(`http://127.0.0.1:${c.port}/metrics`, { signal: AbortSignal.timeout(2000) });
        const m = OWNED.exec(await res.text());
        return m ? ([c.name, Number(m[1])] as const) : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return new Map(counts.filter((x) => x !== undefined));
}

/** The name of a consumer that owns partitions, waiting out a rebalance in progress. */
export function activeConsumer(stack: StackInfo, timeoutMs = 30_000): Promise<string> {
  return waitFor(
    async () => {
      for (const [name, owned] of await partitionsOwned(stack)) if (owned > 0) return name;
      return undefined;
    },
    { timeoutMs, intervalMs: 200, what: 'a consumer that owns partitions' },
  );
}

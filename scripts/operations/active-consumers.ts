// Which consumers of a running stack apply partitions now: with ACTIVE_CONSUMERS
// below the consumer count the others stand by, and a fault meant to cost the
// ledger its owner has to hit one that owns something. Read from each
// consumer's metrics port (teller_consumer_partitions_owned).
import { parsePrometheus, sumOf, type Sample } from '../shared/prometheus-text.js';
import type { StackInfo } from '../stack/stack-file.js';
import { waitFor } from '../shared/wait.js';

/** The metrics of each consumer that answered its metrics port, by name. */
export async function consumerMetrics(stack: StackInfo): Promise<Map<string, Sample[]>> {
  const consumers = stack.components.filter((c) => c.kind === 'consumer' && c.port);
  const scraped = await Promise.all(
    consumers.map(async (c) => {
      try {
        const res = await fetch(`http://127.0.0.1:${c.port}/metrics`, { signal: AbortSignal.timeout(2000) });
        return [c.name, parsePrometheus(await res.text())] as const;
      } catch {
        return undefined;
      }
    }),
  );
  return new Map(scraped.filter((x) => x !== undefined));
}

/** Partitions owned by each consumer that answered its metrics port. */
export async function partitionsOwned(stack: StackInfo): Promise<Map<string, number>> {
  const owned = new Map<string, number>();
  for (const [name, samples] of await consumerMetrics(stack)) {
    if (samples.some((s) => s.name === 'teller_consumer_partitions_owned')) owned.set(name, sumOf(samples, 'teller_consumer_partitions_owned'));
  }
  return owned;
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

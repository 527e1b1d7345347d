// The stack's memory at one moment, as the soak reads it: every component's
// resident memory, each consumer's V8 heap and remembered ids from its own
// metrics port, and Redis's used_memory. Sampled at the soak's edges and at an
// interval while it runs.
import type { Redis } from 'ioredis';
import { consumerMetrics } from '../operations/active-consumers.js';
import { sumOf, type Sample } from '../shared/prometheus-text.js';
import { withTimeout } from '../shared/wait.js';
import type { StackInfo } from '../stack/stack-file.js';
import { stackTracked } from './bench-stack.js';
import { rssByComponent } from './process-memory.js';

export interface ConsumerReading {
  /** V8's heap in use (prom-client's nodejs_heap_size_used_bytes). */
  heapUsed: number;
  /**
   * The same without the young generation (nodejs_heap_space_size_used_bytes of
   * the new spaces): what survived a scavenge. The young generation is mostly
   * garbage of the last batches and swings by tens of megabytes from one scrape
   * to the next, which would drown a few bytes an id. With the memory V8 holds
   * outside its heap for typed arrays (nodejs_external_memory_bytes), where the
   * filter of the id window keeps its bits (consumer/id-filter.ts).
   */
  heapRetained: number;
  /** teller_consumer_ids_remembered summed over its partitions; null when it does not export the gauge. */
  ids: number | null;
  /** Partitions it applies (0: it stands by) and partitions it keeps warm. */
  owned: number;
  warm: number;
}

export interface MemorySample {
  at: number;
  /**
   * The consumers whose heap was read right after full collections (POST /gc,
   * which a consumer answers only when started with --expose-gc; see
   * common/metrics-server.ts for why two). Elsewhere the old generation also
   * holds garbage a full collection has not reclaimed yet.
   */
  collected: string[];
  /** Resident bytes by component name; null for one not running. */
  rss: Record<string, number | null>;
  /** Consumers that answered their metrics port, by name. */
  consumers: Record<string, ConsumerReading>;
  /** Redis's used_memory; null when it did not answer. */
  redisUsed: number | null;
}

/** A consumer's reading from its metrics; undefined without the heap metric (default metrics not collected). */
export function consumerReading(samples: Sample[]): ConsumerReading | undefined {
  const has = (name: string) => samples.some((s) => s.name === name);
  if (!has('nodejs_heap_size_used_bytes')) return undefined;
  const heapUsed = sumOf(samples, 'nodejs_heap_size_used_bytes');
  const young = ['new', 'new_large_object'].reduce((n, space) => n + sumOf(samples, 'nodejs_heap_space_size_used_bytes', { space }), 0);
  return {
    heapUsed,
    heapRetained: heapUsed - young + sumOf(samples, 'nodejs_external_memory_bytes'),
    ids: has('teller_consumer_ids_remembered') ? sumOf(samples, 'teller_consumer_ids_remembered') : null,
    owned: sumOf(samples, 'teller_consumer_partitions_owned'),
    warm: sumOf(samples, 'teller_consumer_partitions_warm'),
  };
}

/** used_memory of a Redis INFO text, in bytes; null when absent. */
export function usedMemoryOf(info: string): number | null {
  const m = /^used_memory:(\d+)\r?$/m.exec(info);
  return m ? Number(m[1]) : null;
}

export async function redisUsedMemory(redis: Redis): Promise<number | null> {
  try {
    return usedMemoryOf(await withTimeout(redis.info('memory'), 2000, 'redis INFO memory'));
  } catch {
    return null;
  }
}

/** Asks every consumer for its full collections; the names of those that ran them. */
export async function collectGarbage(stack: StackInfo): Promise<string[]> {
  const consumers = stack.components.filter((c) => c.kind === 'consumer' && c.port);
  const answers = await Promise.all(
    consumers.map(async (c) => {
      try {
        const res = await fetch(`http://127.0.0.1:${c.port}/gc`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
        return res.status === 204 ? c.name : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return answers.filter((name) => name !== undefined);
}

/** `fullGc`: each consumer collects its garbage first, where it can (a reading at rest). */
export async function sampleMemory(stack: StackInfo, redis: Redis, fullGc = false): Promise<MemorySample> {
  const collected = fullGc ? await collectGarbage(stack) : [];
  const [metrics, redisUsed] = await Promise.all([consumerMetrics(stack), redisUsedMemory(redis)]);
  const consumers: Record<string, ConsumerReading> = {};
  for (const [name, samples] of metrics) {
    const reading = consumerReading(samples);
    if (reading) consumers[name] = reading;
  }
  const rss = rssByComponent(stackTracked(stack).filter((t) => t.kind !== 'loadgen'));
  return { at: Date.now(), collected, rss, consumers, redisUsed };
}

/** Samples taken at an interval while the soak's load runs; a sample still running when the next is due is not doubled. */
export class MemoryTimeline {
  readonly samples: MemorySample[] = [];
  failed = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly take: () => Promise<MemorySample>,
    private readonly intervalMs: number,
  ) {}

  private tick(): void {
    if (this.running) return;
    this.running = this.take()
      .then((s) => void this.samples.push(s))
      .catch(() => void this.failed++)
      .finally(() => (this.running = undefined));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  async stop(): Promise<MemorySample[]> {
    clearInterval(this.timer);
    await this.running;
    return this.samples;
  }
}

/** Seconds between samples: about a hundred over the soak, every 2 s at the most often and every 30 s at the least. */
export function sampleIntervalS(durationS: number): number {
  return Math.min(30, Math.max(2, Math.round(durationS / 100)));
}

// Latency percentiles and ratios: the arithmetic behind every figure the
// benchmark reports, kept pure so the unit tests can pin it down.

/** Nearest-rank percentile (p in [0, 100]) of values sorted ascending; NaN for none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (p <= 0) return sorted[0] as number;
  if (p >= 100) return sorted[n - 1] as number;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n, Math.max(1, rank)) - 1] as number;
}

export interface LatencySummary {
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  mean_ms: number | null;
}

const round = (x: number, digits = 2) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Percentiles of latencies in ms (sorted in place); nulls when there are none. */
export function summarizeLatencies(latencies: Float64Array | number[]): LatencySummary {
  if (latencies.length === 0) return { p50_ms: null, p90_ms: null, p99_ms: null, max_ms: null, mean_ms: null };
  const sorted = latencies instanceof Float64Array ? latencies.sort() : Float64Array.from(latencies).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50_ms: round(percentile(sorted, 50)),
    p90_ms: round(percentile(sorted, 90)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(percentile(sorted, 100)),
    mean_ms: round(sum / sorted.length),
  };
}

/** A phase's rate as a fraction of its ceiling's, 3 decimals; null without a usable ceiling. */
export function ratio(rate: number | null | undefined, ceiling: number | null | undefined): number | null {
  if (rate === null || rate === undefined || ceiling === null || ceiling === undefined) return null;
  if (!Number.isFinite(rate) || !Number.isFinite(ceiling) || ceiling <= 0) return null;
  return round(rate / ceiling, 3);
}

/** Calls per second over `seconds`, 1 decimal; 0 for an empty window. */
export function perSecond(count: number, seconds: number): number {
  return seconds > 0 ? round(count / seconds, 1) : 0;
}

export { round };

/**
 * Per-second increments of a cumulative count sampled at irregular times
 * (e.g. messages applied, read from consumer lag): entry i is the growth
 * during second i after `t0`, taking the last sample at or before each
 * second's end.
 */
export function perSecondFromCumulative(samples: { t: number; value: number }[], t0: number): number[] {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const last = sorted[sorted.length - 1];
  if (!last) return [];
  const seconds = Math.ceil((last.t - t0) / 1000);
  const out: number[] = [];
  let j = 0;
  let prev = 0;
  let current = 0;
  for (let s = 1; s <= seconds; s++) {
    const end = t0 + s * 1000;
    while (j < sorted.length && (sorted[j] as { t: number }).t <= end) current = (sorted[j++] as { value: number }).value;
    out.push(Math.max(0, current - prev));
    prev = current;
  }
  return out;
}

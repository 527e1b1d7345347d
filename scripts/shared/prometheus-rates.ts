// What two scrapes of one process say about the interval between them: how
// much each counter rose (a counter that fell was reset by a restart, and
// counts from zero), sums by labels, and quantiles from a histogram's buckets
// as Prometheus's histogram_quantile() takes them.
import type { Sample } from './prometheus-text.js';

/** A sample's identity: its name and labels, in a fixed order. */
export function seriesKey(s: Pick<Sample, 'name' | 'labels'>): string {
  return `${s.name}${JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;
}

/**
 * How much each series of `name` rose between the two scrapes. A series that
 * fell, or that the first scrape did not have, counts from zero: the process
 * restarted, or made the series (a first observation) after the first scrape.
 */
export function increases(before: Sample[], after: Sample[], name: string): Sample[] {
  const earlier = new Map(before.filter((s) => s.name === name).map((s) => [seriesKey(s), s.value]));
  return after
    .filter((s) => s.name === name)
    .map((s) => {
      const was = earlier.get(seriesKey(s)) ?? 0;
      return { ...s, value: s.value >= was ? s.value - was : s.value };
    });
}

export interface Group {
  labels: Record<string, string>;
  value: number;
}

/** Samples summed by the values of `by` (a label missing counts as ""), in order of first appearance. */
export function sumBy(samples: Sample[], by: string[]): Group[] {
  const groups = new Map<string, Group>();
  for (const s of samples) {
    const labels = Object.fromEntries(by.map((l) => [l, s.labels[l] ?? '']));
    const key = JSON.stringify(by.map((l) => labels[l]));
    const group = groups.get(key) ?? { labels, value: 0 };
    group.value += s.value;
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** A bucket's upper bound: `le` as a number, "+Inf" included. */
export function upperBound(le: string | undefined): number {
  if (le === '+Inf' || le === 'Inf') return Infinity;
  return le === undefined ? NaN : Number(le);
}

export interface Bucket {
  le: number;
  /** Observations at most `le` (cumulative, as exposed). */
  count: number;
}

/**
 * The q-quantile of the observations the buckets count, as histogram_quantile()
 * gives it: the rank's bucket found, the value interpolated linearly inside it
 * (from 0 for the first bucket); in the +Inf bucket, the largest finite bound.
 * Undefined without observations or without a +Inf bucket; below 0 or above 1,
 * -Infinity or Infinity.
 */
export function bucketQuantile(q: number, buckets: Bucket[]): number | undefined {
  if (Number.isNaN(q)) return undefined;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  // Cumulative counts never fall; increases taken across a restart might, and are evened out as Prometheus does.
  let highest = 0;
  const sorted = [...buckets].sort((a, b) => a.le - b.le).map((b) => ({ le: b.le, count: (highest = Math.max(highest, b.count)) }));
  const total = sorted.at(-1);
  if (!total || total.le !== Infinity || total.count <= 0 || sorted.length < 2) return undefined;
  const rank = q * total.count;
  const index = sorted.findIndex((b) => b.count >= rank);
  const bucket = sorted[index]!;
  if (bucket.le === Infinity) return sorted[sorted.length - 2]!.le;
  const below = index === 0 ? { le: 0, count: 0 } : sorted[index - 1]!;
  if (index === 0 && bucket.le <= 0) return bucket.le;
  const inBucket = bucket.count - below.count;
  return below.le + (bucket.le - below.le) * ((rank - below.count) / inBucket);
}

export interface Quantile {
  labels: Record<string, string>;
  /** Undefined when the buckets counted nothing. */
  value: number | undefined;
  /** Observations counted (the +Inf bucket). */
  count: number;
}

/** The q-quantile of `<name>_bucket` samples (typically increases over an interval), per value of the `by` labels. */
export function quantilesBy(buckets: Sample[], q: number, by: string[]): Quantile[] {
  const perGroup = new Map<string, { labels: Record<string, string>; counts: Map<number, number> }>();
  for (const s of buckets) {
    const labels = Object.fromEntries(by.map((l) => [l, s.labels[l] ?? '']));
    const key = JSON.stringify(by.map((l) => labels[l]));
    const group = perGroup.get(key) ?? { labels, counts: new Map<number, number>() };
    const le = upperBound(s.labels.le);
    group.counts.set(le, (group.counts.get(le) ?? 0) + s.value);
    perGroup.set(key, group);
  }
  return [...perGroup.values()].map(({ labels, counts }) => {
    const list = [...counts].map(([le, count]) => ({ le, count }));
    return { labels, value: bucketQuantile(q, list), count: counts.get(Infinity) ?? 0 };
  });
}

// The soak's figures from its samples, kept pure so the unit tests can pin
// them down: the ids in the window, the bytes each component retains per id
// added, their trend over the run, and the accepted rate at the end against
// the start.
import type { MemorySample } from './soak-memory.js';
import { round } from './statistics.js';

export interface Range {
  start: number | null;
  end: number | null;
}

/**
 * Bytes retained per id, by holder: the partition owner(s), the standby,
 * Redis. In `bytes_per_id_trend` each is instead the slope of its memory
 * against the ids over every sample of the run (Redis's within the horizon).
 */
export interface PerId {
  consumer: number | null;
  standby: number | null;
  /**
   * Redis once the outcome horizon (OUTCOME_TTL_SECONDS) has passed since the
   * last write, so that what it keeps per id has expired: all of its
   * used_memory over every id in the window, an upper bound that counts the
   * read model's accounts and Redis's own baseline too. (Its reading before
   * the load still held the outcomes of the calls just before, so a
   * difference with it would undercount.) Null when the soak did not wait
   * that long (--soak-horizon-wait), or no consumer exports the ids gauge.
   */
  redis: number | null;
  /** Redis at rest right after the load, while the last horizon's outcomes and registrations are still kept. */
  redis_within_horizon?: number | null;
}

export interface SoakConsumerMemory {
  role: 'owner' | 'standby';
  heap_used_bytes: Range;
  heap_retained_bytes: Range;
  ids: Range;
}

export interface SoakMemory {
  rss_bytes: Record<string, Range>;
  consumers: Record<string, SoakConsumerMemory>;
  /** used_memory before the load, at rest after it, and once the outcome horizon has passed (null: not read). */
  redis_used_bytes: Range & { past_horizon: number | null };
}

/** One sample of the run, for the chart: seconds since the soak began. */
export interface MemoryPoint {
  t_s: number;
  ids: number | null;
  heap_retained_bytes: Record<string, number>;
  redis_used_bytes: number | null;
}

export const IDS_GAUGE = 'teller_consumer_ids_remembered';

/** What the soak adds to a phase's results (phases.soak.*). */
export interface SoakFields {
  /** Ids in the window at the end, before the load and added by it. */
  ids?: number | null;
  ids_before?: number | null;
  ids_added?: number | null;
  /** The gauge, or the acknowledged calls when no consumer exports it. */
  ids_source?: string;
  bytes_per_id?: PerId;
  /** Whether every consumer's heap at rest was read after full collections (POST /gc, a stack started with --expose-gc), or as found. */
  heap_after_full_gc?: boolean;
  /** Least-squares slope of memory against ids over every sample of the run. */
  bytes_per_id_trend?: PerId;
  statement_p50_ms?: number | null;
  statement_p99_ms?: number | null;
  statement_calls?: number;
  statement_errors?: number;
  ledger_documents?: number | null;
  ledger_error?: string;
  /** Redis's keys with a time to live when it was read past the outcome horizon (null: not read). */
  redis_keys_with_ttl_past_horizon?: number | null;
  /** Accepted calls a second over the first and the last `rate_window_s` of the measured window. */
  rate_window_s?: number;
  rate_start?: number | null;
  rate_end?: number | null;
  rate_end_over_start?: number | null;
  memory?: SoakMemory;
  memory_timeline?: MemoryPoint[];
  /** What makes some figure suspect (a rebalance during the run, a consumer that did not answer). */
  soak_notes?: string[];
}

/** The rate windows: a tenth of the run, at most a minute, at least a second. */
export function rateWindowS(durationS: number): number {
  return Math.max(1, Math.min(60, Math.floor(durationS / 10)));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The mean of the first and of the last `windowS` entries of complete seconds from `fromS` on, and end over start. */
export function rateEndOverStart(perSecond: number[], fromS: number, windowS: number): { start: number | null; end: number | null; ratio: number | null } {
  const measured = perSecond.slice(fromS);
  if (windowS < 1 || measured.length < windowS) return { start: null, end: null, ratio: null };
  const start = mean(measured.slice(0, windowS));
  const end = mean(measured.slice(measured.length - windowS));
  return { start: round(start, 1), end: round(end, 1), ratio: start > 0 ? round(end / start, 3) : null };
}

/** (end - start) / ids, 1 decimal; null without both readings or without ids added. */
export function bytesPerId(start: number | null | undefined, end: number | null | undefined, idsAdded: number | null): number | null {
  if (start === null || start === undefined || end === null || end === undefined || idsAdded === null || !(idsAdded > 0)) return null;
  return round((end - start) / idsAdded, 1);
}

/** Least-squares slope of y over x, 1 decimal; null for fewer than 3 points or no spread in x. */
export function slope(points: [number, number][]): number | null {
  if (points.length < 3) return null;
  const mx = mean(points.map(([x]) => x));
  const my = mean(points.map(([, y]) => y));
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx > 0 ? round(sxy / sxx, 1) : null;
}

/** Ids in the window: the gauge summed over every consumer (only owners report it); null when none exports it. */
export function idsOf(sample: MemorySample): number | null {
  const counts = Object.values(sample.consumers).flatMap((c) => (c.ids === null ? [] : [c.ids]));
  return counts.length === 0 ? null : counts.reduce((a, b) => a + b, 0);
}

/** Consumers that own partitions at the end, and those that stand by. */
export function rolesAt(sample: MemorySample): { owners: string[]; standbys: string[] } {
  const names = Object.keys(sample.consumers).sort();
  return { owners: names.filter((n) => sample.consumers[n]!.owned > 0), standbys: names.filter((n) => sample.consumers[n]!.owned === 0) };
}

/** The owners' retained heap summed; null if any of them did not answer. */
function ownersHeap(sample: MemorySample, owners: string[]): number | null {
  if (owners.length === 0 || owners.some((n) => !sample.consumers[n])) return null;
  return owners.reduce((n, name) => n + sample.consumers[name]!.heapRetained, 0);
}

/** The highest of the standbys' figures: each keeps every partition it stands by for warm, so each is judged against every id. */
function worstStandby(standbys: string[], figure: (name: string) => number | null): number | null {
  const figures = standbys.map(figure).filter((x): x is number => x !== null);
  return figures.length === 0 ? null : Math.max(...figures);
}

function idsAdded(start: MemorySample, end: MemorySample, acknowledged: number): { before: number | null; after: number | null; added: number | null; source: string } {
  const before = idsOf(start);
  const after = idsOf(end);
  if (before !== null && after !== null) return { before, after, added: after - before, source: IDS_GAUGE };
  return { before, after, added: acknowledged, source: 'acknowledged calls' };
}

function trend(samples: MemorySample[], owners: string[], standbys: string[]): PerId {
  const withIds = samples.filter((s) => idsOf(s) !== null);
  const series = (value: (s: MemorySample) => number | null | undefined) =>
    slope(withIds.flatMap((s) => {
      const v = value(s);
      return v === null || v === undefined ? [] : [[idsOf(s)!, v] as [number, number]];
    }));
  return {
    consumer: series((s) => ownersHeap(s, owners)),
    standby: worstStandby(standbys, (name) => series((s) => s.consumers[name]?.heapRetained)),
    redis: series((s) => s.redisUsed),
  };
}

function memoryTable(start: MemorySample, end: MemorySample, owners: string[], redisPastHorizon: number | null): SoakMemory {
  const consumers: Record<string, SoakConsumerMemory> = {};
  for (const [name, last] of Object.entries(end.consumers)) {
    const first = start.consumers[name];
    consumers[name] = {
      role: owners.includes(name) ? 'owner' : 'standby',
      heap_used_bytes: { start: first?.heapUsed ?? null, end: last.heapUsed },
      heap_retained_bytes: { start: first?.heapRetained ?? null, end: last.heapRetained },
      ids: { start: first?.ids ?? null, end: last.ids },
    };
  }
  const names = [...new Set([...Object.keys(start.rss), ...Object.keys(end.rss)])];
  const rss_bytes = Object.fromEntries(names.map((n) => [n, { start: start.rss[n] ?? null, end: end.rss[n] ?? null }]));
  return { rss_bytes, consumers, redis_used_bytes: { start: start.redisUsed, end: end.redisUsed, past_horizon: redisPastHorizon } };
}

function timeline(samples: MemorySample[], t0: number): MemoryPoint[] {
  return samples.map((s) => ({
    t_s: round((s.at - t0) / 1000, 1),
    ids: idsOf(s),
    heap_retained_bytes: Object.fromEntries(Object.entries(s.consumers).map(([n, c]) => [n, c.heapRetained])),
    redis_used_bytes: s.redisUsed,
  }));
}

/** Roles that changed between the samples, and consumers that answered only one of them. */
function memoryNotes(start: MemorySample, end: MemorySample, owners: string[]): string[] {
  const notes: string[] = [];
  for (const name of new Set([...Object.keys(start.consumers), ...Object.keys(end.consumers)])) {
    const first = start.consumers[name];
    const last = end.consumers[name];
    if (!first || !last) notes.push(`${name} did not answer its metrics port at the ${first ? 'end' : 'start'}`);
    else if (first.owned > 0 !== owners.includes(name)) notes.push(`${name} ${first.owned > 0 ? 'owned partitions at the start and stood by at the end' : 'stood by at the start and owned partitions at the end'}: a rebalance during the soak`);
  }
  if (owners.length === 0) notes.push('no consumer owned partitions at the end');
  return notes;
}

/**
 * The memory figures of a soak: `start` and `end` taken at rest (no load,
 * consumers caught up), `samples` every sample in order (start and end
 * included), `acknowledged` the calls acknowledged in between (the ids added
 * when no consumer exports the gauge), `redisPastHorizon` Redis's used_memory
 * once the outcome horizon had passed since `end` (null: not read).
 */
export function soakMemoryFigures(start: MemorySample, end: MemorySample, samples: MemorySample[], acknowledged: number, redisPastHorizon: number | null): SoakFields {
  const { owners, standbys } = rolesAt(end);
  const ids = idsAdded(start, end, acknowledged);
  const heapOf = (s: MemorySample, name: string) => s.consumers[name]?.heapRetained;
  return {
    ids: ids.after,
    ids_before: ids.before,
    ids_added: ids.added,
    ids_source: ids.source,
    bytes_per_id: {
      consumer: bytesPerId(ownersHeap(start, owners), ownersHeap(end, owners), ids.added),
      standby: worstStandby(standbys, (name) => bytesPerId(heapOf(start, name), heapOf(end, name), ids.added)),
      redis: bytesPerId(0, redisPastHorizon, ids.after),
      redis_within_horizon: bytesPerId(start.redisUsed, end.redisUsed, ids.added),
    },
    heap_after_full_gc: [start, end].every((s) => Object.keys(s.consumers).every((name) => s.collected.includes(name))),
    bytes_per_id_trend: trend(samples, owners, standbys),
    memory: memoryTable(start, end, owners, redisPastHorizon),
    memory_timeline: timeline(samples, start.at),
    soak_notes: memoryNotes(start, end, owners),
  };
}

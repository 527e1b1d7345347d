// The figures `npm run top` shows, from two scrapes of every api replica and
// consumer: calls and decisions a second, p99 by route over the interval, lag,
// ids in the id window, memory, and what each process can see of Kafka. Pure:
// the scrapes come in, the figures go out (scripts/operations/top.ts scrapes).
import { increases, quantilesBy, sumBy } from '../shared/prometheus-rates.js';
import { sumOf, type Sample } from '../shared/prometheus-text.js';

export interface ProcessScrape {
  name: string;
  kind: 'api' | 'consumer';
  /** Undefined when the process did not answer. */
  samples?: Sample[];
  error?: string;
}

export interface Scrape {
  /** When it was taken, in milliseconds since the epoch. */
  at: number;
  processes: ProcessScrape[];
}

export interface Rate {
  label: string;
  perSecond: number;
}

export interface RouteFigures {
  method: string;
  route: string;
  perSecond: number;
  /** Undefined when the route was not called in the interval. */
  p99Seconds: number | undefined;
}

export interface ProcessFigures {
  name: string;
  kind: 'api' | 'consumer';
  /** Why the process did not answer its metrics port; undefined when it did. */
  unreachable?: string;
  rssBytes?: number;
  heapUsedBytes?: number;
}

export interface ApiFigures extends ProcessFigures {
  /** Recent Kafka sends failed: new writes are refused with 503. */
  kafkaFailing: boolean;
  queued: number;
  waiting: number;
}

export interface ConsumerFigures extends ProcessFigures {
  owned: number;
  warm: number;
  lag: number;
  /** Undefined without an earlier scrape of the same process to take a rate from. */
  decisionsPerSecond?: number;
  idsRetained: number;
  heartbeatAgeSeconds?: number;
}

export interface Figures {
  at: number;
  /** Seconds between the two scrapes the rates are taken over; 0 for a first scrape alone. */
  seconds: number;
  calls: Rate[];
  httpStatuses: Rate[];
  routes: RouteFigures[];
  decisions: Rate[];
  apis: ApiFigures[];
  consumers: ConsumerFigures[];
  partitionsOwned: number;
}

const START = 'process_start_time_seconds';

/**
 * Each process's samples of the earlier scrape, to take its increases from: none
 * when it restarted in between (everything it counts came since), undefined when
 * the earlier scrape did not reach it (its counts cannot be placed in time).
 */
function earlierSamples(previous: Scrape | undefined, now: ProcessScrape): Sample[] | undefined {
  const before = previous?.processes.find((p) => p.name === now.name)?.samples;
  if (!before || !now.samples) return undefined;
  return sumOf(before, START) === sumOf(now.samples, START) ? before : [];
}

interface Pair {
  process: ProcessScrape;
  before: Sample[];
  after: Sample[];
}

function pairs(previous: Scrape | undefined, current: Scrape, kind: ProcessScrape['kind']): Pair[] {
  return current.processes
    .filter((p) => p.kind === kind)
    .flatMap((process) => {
      const before = earlierSamples(previous, process);
      return before && process.samples ? [{ process, before, after: process.samples }] : [];
    });
}

const byRateThenLabel = (a: Rate, b: Rate) => b.perSecond - a.perSecond || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);

function rates(samples: Sample[], by: string[], seconds: number): Rate[] {
  return sumBy(samples, by)
    .map((g) => ({ label: by.map((l) => g.labels[l]).join(' '), perSecond: g.value / seconds }))
    .sort(byRateThenLabel);
}

function routeFigures(apiPairs: Pair[], seconds: number): RouteFigures[] {
  const buckets = apiPairs.flatMap((p) => increases(p.before, p.after, 'teller_http_request_duration_seconds_bucket'));
  return quantilesBy(buckets, 0.99, ['method', 'route'])
    .filter((q) => q.count > 0)
    .map((q) => ({ method: q.labels.method!, route: q.labels.route!, perSecond: q.count / seconds, p99Seconds: q.value }))
    .sort((a, b) => b.perSecond - a.perSecond || (a.route < b.route ? -1 : 1));
}

function memoryOf(p: ProcessScrape): ProcessFigures {
  if (!p.samples) return { name: p.name, kind: p.kind, unreachable: p.error ?? 'no answer' };
  const gauge = (name: string) => (p.samples!.some((s) => s.name === name) ? sumOf(p.samples!, name) : undefined);
  return { name: p.name, kind: p.kind, rssBytes: gauge('process_resident_memory_bytes'), heapUsedBytes: gauge('nodejs_heap_size_used_bytes') };
}

function apiFigures(p: ProcessScrape): ApiFigures {
  const s = p.samples ?? [];
  return {
    ...memoryOf(p),
    kafkaFailing: sumOf(s, 'teller_producer_failing') > 0,
    queued: sumOf(s, 'teller_producer_queue_depth'),
    waiting: sumOf(s, 'teller_calls_waiting'),
  };
}

/** First decisions and repeats answered with their first outcome, since the earlier scrape. */
function decidedSince(p: Pair): Sample[] {
  return [...increases(p.before, p.after, 'teller_consumer_outcomes_total'), ...increases(p.before, p.after, 'teller_consumer_replays_total').map((s) => ({ ...s, labels: { status: 'replayed' } }))];
}

function consumerFigures(p: ProcessScrape, pair: Pair | undefined, seconds: number): ConsumerFigures {
  const s = p.samples ?? [];
  const age = s.find((x) => x.name === 'teller_consumer_heartbeat_age_seconds')?.value;
  const decided = pair && seconds > 0 ? decidedSince(pair).reduce((n, x) => n + x.value, 0) / seconds : undefined;
  return {
    ...memoryOf(p),
    owned: sumOf(s, 'teller_consumer_partitions_owned'),
    warm: sumOf(s, 'teller_consumer_partitions_warm'),
    lag: sumOf(s, 'teller_consumer_lag_messages'),
    idsRetained: sumOf(s, 'teller_consumer_ids_remembered'),
    ...(decided === undefined ? {} : { decisionsPerSecond: decided }),
    ...(age === undefined ? {} : { heartbeatAgeSeconds: age }),
  };
}

/** The figures of `current`, with rates over the interval since `previous` (none without it). */
export function figures(previous: Scrape | undefined, current: Scrape): Figures {
  const seconds = previous ? Math.max(0, (current.at - previous.at) / 1000) : 0;
  const apiPairs = seconds > 0 ? pairs(previous, current, 'api') : [];
  const consumerPairs = seconds > 0 ? pairs(previous, current, 'consumer') : [];
  const consumers = current.processes
    .filter((p) => p.kind === 'consumer')
    .map((p) => consumerFigures(p, consumerPairs.find((x) => x.process === p), seconds));
  return {
    at: current.at,
    seconds,
    calls: rates(apiPairs.flatMap((p) => increases(p.before, p.after, 'teller_outcomes_total')), ['result', 'status'], seconds),
    httpStatuses: rates(apiPairs.flatMap((p) => increases(p.before, p.after, 'teller_http_request_duration_seconds_count')), ['status'], seconds),
    routes: routeFigures(apiPairs, seconds),
    decisions: rates(consumerPairs.flatMap(decidedSince), ['status'], seconds),
    apis: current.processes.filter((p) => p.kind === 'api').map(apiFigures),
    consumers,
    partitionsOwned: consumers.reduce((n, c) => n + c.owned, 0),
  };
}

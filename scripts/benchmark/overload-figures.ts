// What the overload phase offers and reports, kept pure for the tests: the
// plan of its steps (rates above a base rate), each step's figures from
// what was recorded (each answer counted by scripts/shared/answer-class.ts),
// under stable keys in the JSON
// (phases.overload.steps[i].offered_rps, .accepted_rps, .refused_rps,
// .other_rps, .p50_ms, .p99_ms, .refused_p50_ms, .refused_p99_ms,
// .refused_without_retry_after, .peak_rss_bytes ...), and the markdown table.
import { classify, type AnswerClass } from '../shared/answer-class.js';
import { perSecond, summarizeLatencies } from './statistics.js';

export interface StepPlan {
  /** The step's rate as a multiple of the base rate. */
  multiplier: number;
  /** Calls a second the step sends, on schedule, whatever the answers. */
  target_rps: number;
  seconds: number;
}

/** The most steps, the largest multiplier and the highest rate a plan may hold: a run stays bounded. */
export const PLAN_LIMITS = { steps: 8, multiplier: 10, rps: 100_000, seconds: 120 } as const;

/** The steps: each multiplier of the base rate, in the order given, for `seconds` each. */
export function planSteps(baseRps: number, multipliers: readonly number[], seconds: number): StepPlan[] {
  if (!(baseRps > 0) || !Number.isFinite(baseRps)) throw new Error(`the base rate must be a positive number of calls a second, not ${baseRps}`);
  if (multipliers.length === 0 || multipliers.length > PLAN_LIMITS.steps) throw new Error(`an overload plan has 1 to ${PLAN_LIMITS.steps} steps`);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > PLAN_LIMITS.seconds) throw new Error(`a step lasts 1 to ${PLAN_LIMITS.seconds} s`);
  return multipliers.map((multiplier) => {
    if (!(multiplier > 0) || multiplier > PLAN_LIMITS.multiplier) throw new Error(`a step's multiplier is above 0 and at most ${PLAN_LIMITS.multiplier}, not ${multiplier}`);
    return { multiplier, target_rps: Math.min(PLAN_LIMITS.rps, Math.max(1, Math.round(baseRps * multiplier))), seconds };
  });
}

export interface StepFigures extends StepPlan {
  /** Calls sent a second: the load actually offered (below target_rps when the load generator fell behind). */
  offered_rps: number;
  sent: number;
  /** Calls not sent because every connection was waiting for an answer: a target that holds calls. */
  unsent: number;
  accepted_rps: number;
  refused_rps: number;
  /** Failures of the target a second: other statuses, broken connections and timeouts. */
  other_rps: number;
  accepted: number;
  refused: number;
  other: number;
  timeouts: number;
  /** Broken connections (no status). */
  errors: number;
  /** Answers by status code; refusals by problem type. */
  status: Record<string, number>;
  refused_by: Record<string, number>;
  /** Latency of the accepted calls, from the request's send to its answer's end. */
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  /** Latency of the refused calls, measured as the accepted ones': past capacity a refusal is meant to come at once. */
  refused_p50_ms: number | null;
  refused_p99_ms: number | null;
  /** Refused answers without a Retry-After header (or with an empty one): every refusal is meant to say when to retry. */
  refused_without_retry_after: number;
  /** How late the generator sent its calls against the schedule (p99): large, and offered_rps is below the target. */
  send_lag_p99_ms: number | null;
  /** Largest resident memory seen during the step, by component (each api replica, NGINX). */
  peak_rss_bytes: Record<string, number>;
}

/** What one step saw, call by call; its figures come out of `figures`. */
export class StepRecorder {
  private readonly statuses = new Map<number, number>();
  private readonly refusedBy = new Map<string, number>();
  private readonly acceptedLatencies: number[] = [];
  private readonly refusedLatencies: number[] = [];
  private readonly sendLags: number[] = [];
  private readonly peaks = new Map<string, number>();
  private counts = { sent: 0, unsent: 0, accepted: 0, refused: 0, other: 0, timeouts: 0, errors: 0, refusedWithoutRetryAfter: 0 };

  constructor(readonly plan: StepPlan) {}

  /** A call sent `lagMs` after its time in the schedule. */
  sent(lagMs: number): void {
    this.counts.sent++;
    this.sendLags.push(lagMs);
  }

  /** A call the schedule asked for while every connection was busy. */
  unsent(): void {
    this.counts.unsent++;
  }

  /** An answer, with its 503's problem type and its Retry-After header (absent: the answer had none). */
  answer(status: number, latencyMs: number, problemType?: string, retryAfter?: string): AnswerClass {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    const kind = classify(status, problemType);
    this.counts[kind]++;
    if (kind === 'accepted') this.acceptedLatencies.push(latencyMs);
    if (kind === 'refused') {
      this.refusedLatencies.push(latencyMs);
      if (retryAfter === undefined || retryAfter.trim() === '') this.counts.refusedWithoutRetryAfter++;
      const by = status === 429 ? 'urn:teller:problem:rate-limited' : (problemType as string);
      this.refusedBy.set(by, (this.refusedBy.get(by) ?? 0) + 1);
    }
    return kind;
  }

  /** No answer: the connection broke, or none came within the timeout. */
  failed(timeout: boolean): void {
    this.counts.other++;
    if (timeout) this.counts.timeouts++;
    else this.counts.errors++;
  }

  /** A memory reading taken during the step, by component. */
  memory(rss: Record<string, number | null>): void {
    for (const [name, bytes] of Object.entries(rss)) if (bytes !== null && bytes > (this.peaks.get(name) ?? 0)) this.peaks.set(name, bytes);
  }

  /** Accepted calls' latencies, for the phase's own percentiles over every step. */
  get latencies(): readonly number[] {
    return this.acceptedLatencies;
  }

  figures(): StepFigures {
    const { seconds } = this.plan;
    const c = this.counts;
    const latency = summarizeLatencies(this.acceptedLatencies);
    const refusedLatency = summarizeLatencies(this.refusedLatencies);
    const lag = summarizeLatencies(this.sendLags);
    const sorted = <V>(entries: Iterable<readonly [string | number, V]>) => Object.fromEntries([...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [String(k), v]));
    return {
      ...this.plan,
      offered_rps: perSecond(c.sent, seconds),
      sent: c.sent,
      unsent: c.unsent,
      accepted_rps: perSecond(c.accepted, seconds),
      refused_rps: perSecond(c.refused, seconds),
      other_rps: perSecond(c.other, seconds),
      accepted: c.accepted,
      refused: c.refused,
      other: c.other,
      timeouts: c.timeouts,
      errors: c.errors,
      status: sorted(this.statuses),
      refused_by: sorted(this.refusedBy),
      p50_ms: latency.p50_ms,
      p90_ms: latency.p90_ms,
      p99_ms: latency.p99_ms,
      max_ms: latency.max_ms,
      refused_p50_ms: refusedLatency.p50_ms,
      refused_p99_ms: refusedLatency.p99_ms,
      refused_without_retry_after: c.refusedWithoutRetryAfter,
      send_lag_p99_ms: lag.p99_ms,
      peak_rss_bytes: sorted(this.peaks),
    };
  }
}

/** The phase's own fields of its PhaseResult. */
export interface OverloadFields {
  /** The rate the steps multiply, and where it came from: the contract phase of the same run, or the option. */
  base_rps?: number;
  base_from?: 'contract' | 'option';
  steps?: StepFigures[];
  /** Refused calls looked up afterwards, and how many of those the ledger holds (it must hold none). */
  refused_checked?: number;
  refused_found?: number;
}

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes: number | undefined) => (bytes === undefined ? '-' : fmt(bytes / 1e6, 1));

/** The largest of the peaks of the components whose name starts with `prefix` (every api replica). */
export function peakOf(step: StepFigures, prefix: string): number | undefined {
  const peaks = Object.entries(step.peak_rss_bytes).filter(([name]) => name.startsWith(prefix)).map(([, bytes]) => bytes);
  return peaks.length === 0 ? undefined : Math.max(...peaks);
}

/** One row per step. */
export function overloadTable(steps: readonly StepFigures[]): string[] {
  if (steps.length === 0) return [];
  return [
    '| step | target calls/s | offered | accepted | refused | other | unsent | accepted p50 ms | accepted p99 ms | refused p50 / p99 ms | send lag p99 ms | peak RSS api MB | peak RSS nginx MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...steps.map(
      (s) =>
        `| ${fmt(s.multiplier, 1)}x | ${fmt(s.target_rps)} | ${fmt(s.offered_rps)} | ${fmt(s.accepted_rps)} | ${fmt(s.refused_rps)} | ${fmt(s.other_rps)} | ${fmt(s.unsent)} | ` +
        `${fmt(s.p50_ms, 1)} | ${fmt(s.p99_ms, 1)} | ${fmt(s.refused_p50_ms, 1)} / ${fmt(s.refused_p99_ms, 1)} | ${fmt(s.send_lag_p99_ms, 1)} | ${mb(peakOf(s, 'api'))} | ${mb(peakOf(s, 'nginx'))} |`,
    ),
  ];
}

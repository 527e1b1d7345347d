// What a load generator saw during one phase: every answer's status and
// latency, transport errors and timeouts, and calls per second over time.
// Only what completes inside the measured window counts towards the figures;
// the warm-up before it shows in the timeline alone.
import { perSecond, summarizeLatencies, type LatencySummary } from './statistics.js';

export interface LoadFigures extends LatencySummary {
  /** Answered calls per second in the measured window. */
  rps: number;
  calls: number;
  seconds: number;
  /** Transport errors (not timeouts) plus answers that are failures for a client: 5xx, and 4xx other than 402. */
  errors: number;
  timeouts: number;
  /** Answers by status code, 2xx included. */
  status: Record<string, number>;
  /** Answers that were not 2xx, by status code. */
  non2xx: Record<string, number>;
  /** Calls answered per second since the phase started (warm-up included), one entry a second. */
  timeline: number[];
  warmup_s: number;
}

/** A status a client treats as a failure: 402 is a decision (denied), not an error. */
export function isFailureStatus(status: number): boolean {
  return status >= 500 || (status >= 400 && status !== 402) || status < 100;
}

export class Recorder {
  private latencies = new Float64Array(1 << 16);
  private n = 0;
  private readonly status = new Map<number, number>();
  private transportErrors = 0;
  private timeouts = 0;
  private readonly buckets: number[] = [];
  private windowStart: number;
  private windowEnd = Number.POSITIVE_INFINITY;

  /** `t0`: when the phase started (ms); the measured window opens `warmupMs` later. */
  constructor(
    private readonly t0: number,
    private readonly warmupMs: number,
  ) {
    this.windowStart = t0 + warmupMs;
  }

  private inWindow(t: number): boolean {
    return t >= this.windowStart && t < this.windowEnd;
  }

  /** An answer completed at `t` (ms) after `latencyMs`. */
  response(t: number, status: number, latencyMs: number): void {
    const sec = Math.max(0, Math.floor((t - this.t0) / 1000));
    while (this.buckets.length <= sec) this.buckets.push(0);
    this.buckets[sec] = (this.buckets[sec] ?? 0) + 1;
    if (!this.inWindow(t)) return;
    if (this.n === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.n++] = latencyMs;
    this.status.set(status, (this.status.get(status) ?? 0) + 1);
  }

  error(t: number, timeout: boolean): void {
    if (!this.inWindow(t)) return;
    if (timeout) this.timeouts++;
    else this.transportErrors++;
  }

  /** Closes the measured window at `t` (ms); answers after it are ignored. */
  close(t: number): void {
    this.windowEnd = Math.min(this.windowEnd, t);
  }

  /** Moves the start of the measured window (e.g. to the moment of a fault). */
  openAt(t: number): void {
    this.windowStart = t;
  }

  get answered(): number {
    return this.n;
  }

  figures(now: number): LoadFigures {
    const end = Math.min(this.windowEnd, now);
    const seconds = Math.max(0, (end - this.windowStart) / 1000);
    const status: Record<string, number> = {};
    const non2xx: Record<string, number> = {};
    let failures = 0;
    for (const [code, count] of [...this.status].sort((a, b) => a[0] - b[0])) {
      status[String(code)] = count;
      if (code < 200 || code >= 300) non2xx[String(code)] = count;
      if (isFailureStatus(code)) failures += count;
    }
    return {
      rps: perSecond(this.n, seconds),
      calls: this.n,
      seconds: Math.round(seconds * 100) / 100,
      ...summarizeLatencies(this.latencies.subarray(0, this.n)),
      errors: this.transportErrors + failures,
      timeouts: this.timeouts,
      status,
      non2xx,
      timeline: [...this.buckets],
      warmup_s: Math.round(((this.windowStart - this.t0) / 1000) * 100) / 100,
    };
  }
}

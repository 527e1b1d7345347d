// The shape of a benchmark's results: what the JSON file holds, with stable
// keys (phases.<name>.rps, .ratio, .p50_ms ... .cpu_seconds.<component>,
// .peak_lag; phases.drain.tps; phases.takeover.seconds; phases.overload.steps[i]
// .offered_rps, .accepted_rps, .refused_rps, .other_rps, .p99_ms, .peak_rss_bytes:
// see overload-figures.ts; phases.soak.ids,
// .bytes_per_id.{consumer,standby,redis}, .statement_p99_ms,
// .ledger_documents, .rate_end_over_start: see soak-figures.ts;
// phases['index-cost'].index_sets.<set>.docs_per_s, .ratio_to_id_only,
// .database_cpu_us_per_doc: see index-cost-figures.ts).
import type { AbFigures } from './apache-bench.js';
import type { FlowCounts } from './contract-flow.js';
import type { IndexCostFields } from './index-cost-figures.js';
import type { OverloadFields } from './overload-figures.js';
import type { SoakFields } from './soak-figures.js';

export interface AuditSummary {
  ok: boolean;
  violations: number;
  /** Violations by check, with a few offending ids each. */
  checks: { check: string; detail: string; ids: string[] }[];
  documents: number;
  seconds: number;
  error?: string;
}

export interface PhaseResult extends SoakFields, IndexCostFields, OverloadFields {
  name: string;
  description: string;
  skipped?: boolean;
  reason?: string;
  /** Set when the phase could not complete; the figures then cover what ran. */
  error?: string;
  rps: number | null;
  /** rps as a fraction of `ratio_of`'s rps, measured in the same run. */
  ratio: number | null;
  ratio_of?: string;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  mean_ms?: number | null;
  errors: number;
  timeouts: number;
  calls?: number;
  /** Length of the measured window of a load phase. */
  window_s?: number;
  /** The phase's own duration figure: drain: until lag 0; takeover: from the kill until every partition is served. */
  seconds?: number | null;
  status?: Record<string, number>;
  non2xx?: Record<string, number>;
  /** Calls (for the drain, messages applied; for the overload, accepted calls) per second since the phase began. */
  timeline?: number[];
  warmup_s?: number;
  /** CPU seconds per kind of component during the measured window; cpu_detail per process group. */
  cpu_seconds: Record<string, number>;
  cpu_detail?: Record<string, number>;
  cpu_wall_s?: number;
  cpu_replaced?: string[];
  /** Stack components that restarted or were down during the phase (not counting one it killed on purpose). */
  stack_problems?: string[];
  peak_lag: number | null;
  lag_samples?: number;
  lag_samples_failed?: number;
  lag_last_error?: string;
  audit?: AuditSummary | null;
  flow?: FlowCounts;
  acked?: number;
  acked_file?: string;
  // ceiling-ab: ApacheBench's own figure for the same ceiling
  ab?: AbFigures | { error: string };
  // drain
  tps?: number;
  messages?: number;
  produce_s?: number;
  produce_rate?: number;
  tps_after_first_commit?: number;
  /** Messages applied (all of them unless the drain ran out of time). */
  applied?: number;
  /** Times the drain's consumers had to rejoin their group (a batch outlasting the session timeout shows here). */
  group_rejoins?: number;
  first_commit_s?: number;
  cleanup_problems?: string[];
  // webhooks-N: the endpoints registered during the step, and the deliveries the receiver took meanwhile
  webhook_endpoints?: number;
  webhook_deliveries?: number;
  // takeover
  killed?: { name: string; pid: number };
  restarted_after_s?: number | null;
  partitions_s?: (number | null)[];
  probes?: number;
}

export interface BenchResult {
  version: 1;
  started_at: string;
  finished_at: string;
  command: string;
  git: { commit: string; dirty: boolean };
  machine: { cores: number; cpu_model: string; memory_gib: number; kernel: string; node: string; load_avg_at_start: number[] };
  config: Record<string, unknown>;
  options: Record<string, unknown>;
  stack: { url: string; started_by_bench: boolean };
  phases: Record<string, PhaseResult>;
}

export function emptyPhase(name: string, description: string): PhaseResult {
  return {
    name,
    description,
    rps: null,
    ratio: null,
    p50_ms: null,
    p90_ms: null,
    p99_ms: null,
    max_ms: null,
    errors: 0,
    timeouts: 0,
    cpu_seconds: {},
    peak_lag: null,
  };
}

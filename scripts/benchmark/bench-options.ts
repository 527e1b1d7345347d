// The benchmark's options, from flags first and the environment second:
//   --quick                short phases and a 20k drain (a smoke run)
//   --phases a,b           some of: ceiling, contract, contract-ab, transfers, webhooks, accept, drain, soak, takeover,
//                          index-cost (every one but soak and index-cost unless named: a soak runs
//                          for minutes and grows the ledger every later phase reads; index-cost
//                          measures the database alone, and needs no stack when named alone)
//   --duration S           measured seconds per load phase (BENCH_DURATION_S, default 30)
//   --warmup S             uncounted seconds before each (BENCH_WARMUP_S, default 5)
//   --settle S             unmeasured seconds of the contract flow before the first phase
//                          against the stack, so every component has reached steady state
//                          (BENCH_SETTLE_S, default 60; 0: none)
//   --connections N        concurrent clients (BENCH_CONNECTIONS, default 150)
//   --drain-messages N     backlog of the drain (BENCH_DRAIN_MESSAGES, default 1,000,000)
//   --soak-duration S      measured seconds of the soak (BENCH_SOAK_DURATION_S, default 600, quick 20)
//   --soak-rate N          the soak's calls a second at most, over the same connections
//                          (BENCH_SOAK_RATE, default 0: as fast as the answers come)
//   --soak-horizon-wait S  the longest the soak waits after its load for what Redis keeps per id
//                          to expire (OUTCOME_TTL_SECONDS) before reading Redis again
//                          (BENCH_SOAK_HORIZON_WAIT_S, default 900, quick 0: not read again)
//   --index-cost-documents N  documents inserted under each index set by index-cost
//                          (BENCH_INDEX_COST_DOCUMENTS, default 100,000, quick 20,000)
//   --overload-steps a,b   the overload phase's rates as multiples of the contract phase's
//                          rate in the same run (BENCH_OVERLOAD_STEPS, default 1,1.5,2,3;
//                          at most 8 steps, each at most 10x)
//   --overload-step-seconds S  seconds of each step (BENCH_OVERLOAD_STEP_S, 1 to 120, default 15, quick 5)
//   --overload-connections N   connections of the overload phase (BENCH_OVERLOAD_CONNECTIONS,
//                          default 1,000, at most 4,000)
//   --overload-base-rate N the rate the steps multiply when the contract phase did not run
//                          (BENCH_OVERLOAD_BASE_RATE, default 4,000 calls/s)
//   --no-audit             skip the audit after each phase
//   --keep-stack           leave a stack the benchmark started running
import { PLAN_LIMITS } from './overload-figures.js';

/** Every phase, in the order a run takes them: the takeover after the soak, so it is measured on the grown state too. */
export const ALL_PHASES = ['ceiling', 'contract', 'contract-ab', 'transfers', 'webhooks', 'accept', 'overload', 'drain', 'soak', 'takeover', 'index-cost'] as const;
export type PhaseName = (typeof ALL_PHASES)[number];
/** The phases a run takes when none are named. */
export const PHASES: readonly PhaseName[] = ALL_PHASES.filter((p) => p !== 'soak' && p !== 'index-cost');
/** Phases that need only the database: a run of these alone neither starts nor needs the stack. */
export const DATABASE_ONLY_PHASES: readonly PhaseName[] = ['index-cost'];

/** Whether a run of `phases` needs only the database. */
export function databaseOnly(phases: readonly PhaseName[]): boolean {
  return phases.length > 0 && phases.every((p) => DATABASE_ONLY_PHASES.includes(p));
}

export interface BenchOptions {
  phases: PhaseName[];
  quick: boolean;
  durationS: number;
  warmupS: number;
  /** Unmeasured load before the first phase against the stack: Kafka's JVM compiles its hot paths only under load. */
  settleS: number;
  connections: number;
  accounts: number;
  drainMessages: number;
  drainTimeoutS: number;
  /** Load before the kill, and the longest wait for the takeover after it. */
  takeoverLeadS: number;
  takeoverMaxS: number;
  audit: boolean;
  keepStack: boolean;
  /** Ports of the ceiling's NGINX and of its first replica. */
  ceilingPort: number | undefined;
  ceilingApiBasePort: number | undefined;
  /** Redis logical database of the drain's consumers (the live read model is in database 0). */
  drainRedisDb: number;
  /** Measured seconds of the soak's load, and its cap in calls a second (0: none). */
  soakDurationS: number;
  soakRate: number;
  /** Statement pages read once the soak's load has stopped. */
  soakStatements: number;
  /** The longest wait, after the soak's load, for Redis's per-id keys to expire before it is read again (0: not read again). */
  soakHorizonWaitS: number;
  /** Documents index-cost inserts under each index set, and the longest it spends on one set. */
  indexCostDocuments: number;
  indexCostTimeoutS: number;
  /** The overload phase: its steps' multiples of the base rate, seconds a step, connections, and the base rate without a contract phase. */
  overloadMultipliers: number[];
  overloadStepS: number;
  overloadConnections: number;
  overloadBaseRate: number;
}

export class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new UsageError(`${name} must be an integer ${range}, not ${JSON.stringify(raw)}`);
  }
  return n;
}

/** The overload phase's multipliers: 1 to PLAN_LIMITS.steps numbers above 0 and at most PLAN_LIMITS.multiplier. */
function multipliers(raw: string | undefined): number[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const values = raw.split(',').map((s) => Number(s.trim()));
  const bad = values.length > PLAN_LIMITS.steps || values.some((m) => !(m > 0) || m > PLAN_LIMITS.multiplier);
  if (bad) throw new UsageError(`--overload-steps takes 1 to ${PLAN_LIMITS.steps} numbers above 0 and at most ${PLAN_LIMITS.multiplier}, not ${JSON.stringify(raw)}`);
  return values;
}

export function parseArgs(argv: string[], env: Record<string, string | undefined> = {}): BenchOptions {
  const switches = ['quick', 'no-audit', 'keep-stack', 'help'];
  const known = [
    ...switches,
    ...['phases', 'duration', 'warmup', 'settle', 'connections', 'drain-messages', 'soak-duration', 'soak-rate', 'soak-horizon-wait', 'index-cost-documents'],
    ...['overload-steps', 'overload-step-seconds', 'overload-connections', 'overload-base-rate'],
  ];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!known.includes(name)) throw new UsageError(`unknown flag --${name}`);
    if (eq > 0) flags.set(name, a.slice(eq + 1));
    else if (switches.includes(name)) flags.set(name, true);
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      flags.set(a.slice(2), v);
      i++;
    }
  }
  if (flags.has('help')) throw new UsageError('help');

  const str = (k: string) => {
    const v = flags.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const quick = flags.get('quick') === true;
  let phases: PhaseName[] = [...PHASES];
  const list = str('phases') ?? env.BENCH_PHASES;
  if (list) {
    const names = list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const n of names) if (!(ALL_PHASES as readonly string[]).includes(n)) throw new UsageError(`unknown phase ${n}; phases: ${ALL_PHASES.join(', ')}`);
    phases = ALL_PHASES.filter((p) => names.includes(p));
  }
  return {
    phases,
    quick,
    durationS: positiveInt('--duration', str('duration') ?? env.BENCH_DURATION_S) ?? (quick ? 5 : 30),
    warmupS: positiveInt('--warmup', str('warmup') ?? env.BENCH_WARMUP_S, 0) ?? (quick ? 2 : 5),
    settleS: positiveInt('--settle', str('settle') ?? env.BENCH_SETTLE_S, 0) ?? (quick ? 3 : 60),
    connections: positiveInt('--connections', str('connections') ?? env.BENCH_CONNECTIONS) ?? 150,
    accounts: positiveInt('BENCH_ACCOUNTS', env.BENCH_ACCOUNTS) ?? 10_000,
    drainMessages: positiveInt('--drain-messages', str('drain-messages') ?? env.BENCH_DRAIN_MESSAGES) ?? (quick ? 20_000 : 1_000_000),
    drainTimeoutS: positiveInt('BENCH_DRAIN_TIMEOUT_S', env.BENCH_DRAIN_TIMEOUT_S) ?? 900,
    takeoverLeadS: quick ? 3 : 5,
    takeoverMaxS: positiveInt('BENCH_TAKEOVER_MAX_S', env.BENCH_TAKEOVER_MAX_S) ?? 60,
    audit: flags.get('no-audit') !== true,
    keepStack: flags.get('keep-stack') === true,
    ceilingPort: positiveInt('BENCH_CEILING_PORT', env.BENCH_CEILING_PORT),
    ceilingApiBasePort: positiveInt('BENCH_CEILING_API_BASE_PORT', env.BENCH_CEILING_API_BASE_PORT),
    drainRedisDb: positiveInt('BENCH_DRAIN_REDIS_DB', env.BENCH_DRAIN_REDIS_DB, 1) ?? 9,
    soakDurationS: positiveInt('--soak-duration', str('soak-duration') ?? env.BENCH_SOAK_DURATION_S) ?? (quick ? 20 : 600),
    soakRate: positiveInt('--soak-rate', str('soak-rate') ?? env.BENCH_SOAK_RATE, 0) ?? 0,
    soakStatements: positiveInt('BENCH_SOAK_STATEMENTS', env.BENCH_SOAK_STATEMENTS) ?? 200,
    soakHorizonWaitS: positiveInt('--soak-horizon-wait', str('soak-horizon-wait') ?? env.BENCH_SOAK_HORIZON_WAIT_S, 0) ?? (quick ? 0 : 900),
    indexCostDocuments:
      positiveInt('--index-cost-documents', str('index-cost-documents') ?? env.BENCH_INDEX_COST_DOCUMENTS) ?? (quick ? 20_000 : 100_000),
    indexCostTimeoutS: positiveInt('BENCH_INDEX_COST_TIMEOUT_S', env.BENCH_INDEX_COST_TIMEOUT_S) ?? 300,
    overloadMultipliers: multipliers(str('overload-steps') ?? env.BENCH_OVERLOAD_STEPS) ?? [1, 1.5, 2, 3],
    overloadStepS: positiveInt('--overload-step-seconds', str('overload-step-seconds') ?? env.BENCH_OVERLOAD_STEP_S, 1, PLAN_LIMITS.seconds) ?? (quick ? 5 : 15),
    overloadConnections: positiveInt('--overload-connections', str('overload-connections') ?? env.BENCH_OVERLOAD_CONNECTIONS, 1, 4000) ?? 1000,
    overloadBaseRate: positiveInt('--overload-base-rate', str('overload-base-rate') ?? env.BENCH_OVERLOAD_BASE_RATE, 1, PLAN_LIMITS.rps) ?? 4000,
  };
}

export const USAGE = `usage: npm run bench -- [--quick] [--phases ${ALL_PHASES.join(',')}] [--duration S] [--warmup S]
                        [--settle S] [--connections N] [--drain-messages N] [--soak-duration S] [--soak-rate N]
                        [--soak-horizon-wait S] [--index-cost-documents N] [--overload-steps a,b] [--overload-step-seconds S]
                        [--overload-connections N] [--overload-base-rate N] [--no-audit] [--keep-stack]`;

// What every phase of a benchmark run shares (its options, the stack's
// configuration, files and components, the run's folder, log and progress
// line, a Kafka admin client, the results so far), and the small steps
// several phases take.
import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../../common/config.js';
import type { Paths } from '../stack/paths.js';
import type { AckLog } from './ack-log.js';
import { contractShape } from './autocannon-load.js';
import type { BenchOptions } from './bench-options.js';
import type { PhaseResult } from './bench-result.js';
import { downComponents, type BenchStack } from './bench-stack.js';
import { DEFAULT_FLOW, Flow, isAcknowledged } from './contract-flow.js';
import { clockTicks, cpuBetween, type CpuSample } from './process-cpu.js';
import type { Progress } from './progress.js';

export interface BenchContext {
  opts: BenchOptions;
  config: Config;
  paths: Paths;
  stack: BenchStack;
  /** The run's stamp, in its ids, accounts, topic and database names. */
  stamp: string;
  /** .run/bench/<stamp>: the run's log, acknowledged calls, the ceiling's and the drain's processes. */
  runDir: string;
  log: Logger;
  progress: Progress;
  admin: Admin;
  phases: Record<string, PhaseResult>;
}

/** 20261123203015: sortable, and valid in topic, group and database names. */
export function stampOf(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The card-processor flow over the run's own accounts; `tag` keeps each phase's ids apart. */
export function contractFlow(ctx: BenchContext, tag: string, seed: number, shape: 'mixed' | 'deposits' | 'transfers' = 'mixed'): Flow {
  return new Flow({
    ...DEFAULT_FLOW,
    accounts: ctx.opts.accounts,
    accountPrefix: `b${ctx.stamp}`,
    idPrefix: `b${ctx.stamp}-${tag}`,
    seed,
    depositShare: shape === 'deposits' ? 1 : DEFAULT_FLOW.depositShare,
    transferShare: shape === 'transfers' ? 1 : 0,
  });
}

export function cpuFields(before: CpuSample | undefined, after: CpuSample | undefined): Pick<PhaseResult, 'cpu_seconds' | 'cpu_detail' | 'cpu_wall_s' | 'cpu_replaced'> {
  if (!before || !after) return { cpu_seconds: {} };
  const usage = cpuBetween(before, after, clockTicks());
  const total = Object.values(usage.byKind).reduce((a, b) => a + b, 0);
  return {
    cpu_seconds: { ...usage.byKind, total: Math.round(total * 100) / 100 },
    cpu_detail: usage.byName,
    cpu_wall_s: Math.round((after.at - before.at) / 10) / 100,
    ...(usage.replaced.length > 0 ? { cpu_replaced: usage.replaced } : {}),
  };
}

/** Components that restarted or are down after a phase (other than one the phase killed on purpose) make its figures suspect. */
export function noteRestarts(ctx: BenchContext, result: PhaseResult, expected: string[]): void {
  const problems = [...(result.cpu_replaced ?? []), ...downComponents(ctx.stack.info)].filter((n) => !expected.includes(n));
  if (problems.length > 0) result.stack_problems = [...new Set(problems)];
}

/** Sends the settlements a flow still owes once its load has stopped, so every approval it saw is followed by its withdrawal. */
export async function settleOwed(url: string, flow: Flow, acked: AckLog | undefined): Promise<void> {
  for (const tx of flow.drainOwed()) {
    try {
      const res = await fetch(`${url}/transaction`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: contractShape.body(tx),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (isAcknowledged(res.status)) acked?.add(tx.id, tx.accountId);
    } catch {
      // unanswered: not acknowledged, so the audit does not expect it
    }
  }
}

// A load phase: the flow through NGINX for a warm-up and a measured window,
// with CPU sampled at the window's edges and, against the live stack, the
// group's lag sampled, every acknowledged call recorded and the ledger audited
// afterwards. Also the unmeasured load that settles the stack first.
import { join } from 'node:path';
import { AckLog } from './ack-log.js';
import { auditAfter } from './audit-after-phase.js';
import { contractShape, startLoad, type Shape } from './autocannon-load.js';
import { contractFlow, cpuFields, noteRestarts, settleOwed, type BenchContext } from './bench-context.js';
import { emptyPhase, type PhaseResult } from './bench-result.js';
import { requireStackUp } from './bench-stack.js';
import type { Flow } from './contract-flow.js';
import { LagSampler } from './lag-sampler.js';
import type { LoadFigures } from './load-recorder.js';
import { sampleCpu, type CpuSample, type Tracked } from './process-cpu.js';
import { ratio } from './statistics.js';

export interface LoadPhaseSpec {
  name: string;
  description: string;
  url: string;
  keepAlive: boolean;
  shape: Shape;
  flow: Flow;
  tracked: () => Tracked[];
  /** Sample the live group's lag, record acknowledged calls, audit afterwards: phases against the stack. */
  live: boolean;
  ratioOf?: string;
}

interface MeasuredLoad {
  figures: LoadFigures;
  /** CPU at the window's opening and closing; unset if the run ended before. */
  before: CpuSample | undefined;
  after: CpuSample | undefined;
}

async function measureLoad(ctx: BenchContext, spec: LoadPhaseSpec, acked: AckLog | undefined, lag: LagSampler | undefined): Promise<MeasuredLoad> {
  const { opts } = ctx;
  let before: CpuSample | undefined;
  let after: CpuSample | undefined;
  const total = opts.warmupS + opts.durationS;
  ctx.progress.start(spec.name, total, 's');
  const run = startLoad({
    url: spec.url,
    connections: opts.connections,
    warmupS: opts.warmupS,
    durationS: opts.durationS,
    keepAlive: spec.keepAlive,
    flow: spec.flow,
    shape: spec.shape,
    acked,
    onWindowOpen: () => {
      before = sampleCpu(spec.tracked());
      lag?.start();
    },
    onWindowClose: () => {
      after = sampleCpu(spec.tracked());
    },
    onTick: (elapsed, answered) => ctx.progress.update(Math.min(total, elapsed), `${answered.toLocaleString('en-US')} calls`),
  });
  const figures = await run.done;
  ctx.progress.stop();
  return { figures, before, after };
}

export async function loadPhase(ctx: BenchContext, spec: LoadPhaseSpec): Promise<PhaseResult> {
  const result = emptyPhase(spec.name, spec.description);
  if (spec.live) await requireStackUp(ctx.stack.info);
  const acked = spec.live ? new AckLog(join(ctx.runDir, `${spec.name}-acked.jsonl`)) : undefined;
  const lag = spec.live ? new LagSampler(ctx.admin, ctx.config.groupId, ctx.config.topic) : undefined;
  const { figures, before, after } = await measureLoad(ctx, spec, acked, lag);
  const peak = lag ? await lag.stop() : null;
  if (lag) Object.assign(result, lag.report());
  if (spec.live) await settleOwed(spec.url, spec.flow, acked);
  acked?.flush();
  const { seconds, ...rest } = figures;
  Object.assign(result, rest, { window_s: seconds }, cpuFields(before, after), { peak_lag: peak, flow: spec.live ? spec.flow.counts : undefined });
  if (spec.live) noteRestarts(ctx, result, []);
  if (spec.ratioOf) {
    result.ratio = ratio(result.rps, ctx.phases[spec.ratioOf]?.rps);
    result.ratio_of = spec.ratioOf;
  }
  if (acked) {
    result.acked = acked.count;
    result.acked_file = acked.file;
  }
  if (spec.live && ctx.opts.audit) {
    ctx.progress.note(`auditing after ${spec.name}...`);
    result.audit = await auditAfter(ctx.config, acked?.file);
  }
  return result;
}

/**
 * Drives the contract flow, unmeasured, before the first phase against the
 * stack: a freshly started Kafka runs interpreted code until its JVM has
 * compiled the hot paths under load, and the first phase would otherwise
 * measure that climb rather than the steady state.
 */
export async function settleStack(ctx: BenchContext): Promise<void> {
  const seconds = ctx.opts.settleS;
  if (seconds === 0) return;
  await requireStackUp(ctx.stack.info);
  const flow = contractFlow(ctx, 'settle', 7);
  ctx.progress.start('settle', seconds, 's');
  const run = startLoad({
    url: ctx.stack.info.url,
    connections: ctx.opts.connections,
    warmupS: 0,
    durationS: seconds,
    keepAlive: true,
    flow,
    shape: contractShape,
    onTick: (elapsed, answered) => ctx.progress.update(Math.min(seconds, elapsed), `${answered.toLocaleString('en-US')} calls`),
  });
  await run.done;
  ctx.progress.stop();
  await settleOwed(ctx.stack.info.url, flow, undefined);
}

// The takeover phase: the contract flow against the live stack, a consumer
// that owns partitions SIGKILLed after a lead-in, and the time until every
// partition answers decided 200s again (one probe account per partition).
import { join } from 'node:path';
import { activeConsumer } from '../operations/active-consumers.js';
import { signalComponent, waitRestarted } from '../stack/running-components.js';
import type { ComponentInfo } from '../stack/stack-file.js';
import { sleep } from '../shared/wait.js';
import { AckLog } from './ack-log.js';
import { auditAfter } from './audit-after-phase.js';
import { contractShape, startLoad } from './autocannon-load.js';
import { contractFlow, cpuFields, noteRestarts, settleOwed, type BenchContext } from './bench-context.js';
import { emptyPhase, type PhaseResult } from './bench-result.js';
import { requireStackUp, stackTracked } from './bench-stack.js';
import type { Flow } from './contract-flow.js';
import { LagSampler } from './lag-sampler.js';
import { sampleCpu, type CpuSample } from './process-cpu.js';
import { ratio } from './statistics.js';
import { probeUntilServed } from './takeover-probe.js';
import { TakeoverTracker } from './takeover-tracker.js';

/** Seconds the load goes on once the probing has ended, so the measured window includes calls after the recovery. */
const TAIL_S = 2;

interface TakeoverLoad {
  run: ReturnType<typeof startLoad>;
  /** Resolves when the lead-in is over and the measured window opens: the moment of the kill. */
  windowOpen: Promise<void>;
  cpu: { before?: CpuSample; after?: CpuSample };
}

/** The consumer to kill: one that owns partitions now (a standby would hold nothing to take over). */
async function victimOf(ctx: BenchContext): Promise<ComponentInfo | undefined> {
  const owner = ctx.stack.info.components.some((c) => c.kind === 'consumer') ? await activeConsumer(ctx.stack.info) : undefined;
  return ctx.stack.info.components.find((c) => c.name === owner);
}

function startTakeoverLoad(ctx: BenchContext, flow: Flow, acked: AckLog, lag: LagSampler): TakeoverLoad {
  const { opts } = ctx;
  const cpu: TakeoverLoad['cpu'] = {};
  let opened!: () => void;
  const windowOpen = new Promise<void>((r) => (opened = r));
  const run = startLoad({
    url: ctx.stack.info.url,
    connections: opts.connections,
    warmupS: opts.takeoverLeadS,
    durationS: opts.takeoverMaxS + TAIL_S + 1,
    keepAlive: true,
    flow,
    shape: contractShape,
    acked,
    onWindowOpen: () => {
      cpu.before = sampleCpu(stackTracked(ctx.stack.info));
      lag.start();
      opened();
    },
    onWindowClose: () => {
      cpu.after = sampleCpu(stackTracked(ctx.stack.info));
    },
  });
  return { run, windowOpen, cpu };
}

/** Waits out the lead-in under load, then SIGKILLs the victim; the load stops if the kill fails. */
async function killAfterLead(ctx: BenchContext, load: TakeoverLoad, victim: string): Promise<{ pid: number; killedAt: number }> {
  const { opts } = ctx;
  ctx.progress.start('takeover: load', opts.takeoverLeadS, 's');
  const leadTicker = setInterval(() => ctx.progress.update(Math.min(opts.takeoverLeadS, (Date.now() - load.run.startedAt) / 1000)), 500);
  await load.windowOpen;
  clearInterval(leadTicker);
  let pid: number;
  try {
    pid = signalComponent(ctx.stack.info, victim, 'SIGKILL');
  } catch (err) {
    load.run.stop();
    await load.run.done;
    throw err;
  }
  const killedAt = Date.now();
  load.run.recorder.openAt(killedAt);
  return { pid, killedAt };
}

/** Probes every partition until each has answered a decided 200; returns the probes sent. */
async function probePartitions(ctx: BenchContext, tracker: TakeoverTracker, acked: AckLog, killedAt: number): Promise<number> {
  const { opts, config } = ctx;
  ctx.progress.start('takeover: partitions served', config.partitions, 'partitions');
  const probes = await probeUntilServed({
    url: ctx.stack.info.url,
    partitions: config.partitions,
    accountPrefix: `probe${ctx.stamp}`,
    idPrefix: `b${ctx.stamp}-tp`,
    tracker,
    maxMs: opts.takeoverMaxS * 1000,
    acked,
    onProgress: (served) => ctx.progress.update(served, `${((Date.now() - killedAt) / 1000).toFixed(1)} s since the kill`),
  });
  ctx.progress.stop();
  return probes;
}

export async function takeoverPhase(ctx: BenchContext): Promise<PhaseResult> {
  const { opts, config } = ctx;
  await requireStackUp(ctx.stack.info);
  const victim = await victimOf(ctx);
  if (!victim) return { ...emptyPhase('takeover', 'no consumer to kill'), skipped: true, reason: 'the stack runs no consumer of its own (external?)' };
  const result = emptyPhase('takeover', `contract load; ${victim.name} SIGKILLed after ${opts.takeoverLeadS} s; time until every partition answers decided 200s again`);
  const acked = new AckLog(join(ctx.runDir, 'takeover-acked.jsonl'));
  const lag = new LagSampler(ctx.admin, config.groupId, config.topic);
  const flow = contractFlow(ctx, 'tk', 4);
  const load = startTakeoverLoad(ctx, flow, acked, lag);
  const { pid, killedAt } = await killAfterLead(ctx, load, victim.name);
  result.killed = { name: victim.name, pid };
  const restarted = waitRestarted(ctx.stack.info, victim.name, pid, opts.takeoverMaxS * 1000).then(
    () => Date.now(),
    () => undefined,
  );
  const tracker = new TakeoverTracker(config.partitions, killedAt);
  result.probes = await probePartitions(ctx, tracker, acked, killedAt);
  await sleep(TAIL_S * 1000);
  load.run.stop();
  const { seconds: windowS, ...rest } = await load.run.done;
  const restartedAt = await restarted;
  result.restarted_after_s = restartedAt === undefined ? null : Math.round((restartedAt - killedAt) / 10) / 100;
  const peak = await lag.stop();
  Object.assign(result, lag.report());
  await settleOwed(ctx.stack.info.url, flow, acked);
  acked.flush();
  Object.assign(result, rest, { window_s: windowS }, cpuFields(load.cpu.before, load.cpu.after), { peak_lag: peak, flow: flow.counts });
  noteRestarts(ctx, result, [victim.name]);
  result.seconds = tracker.seconds();
  result.partitions_s = tracker.perPartition();
  if (result.seconds === null) result.error = `partitions ${tracker.waiting().join(', ')} not served within ${opts.takeoverMaxS} s`;
  result.ratio = ratio(result.rps, ctx.phases.ceiling?.rps);
  result.ratio_of = 'ceiling';
  result.acked = acked.count;
  result.acked_file = acked.file;
  if (opts.audit) {
    ctx.progress.note('auditing after takeover...');
    result.audit = await auditAfter(config, acked.file);
  }
  return result;
}

// The overload phase: the contract flow over POST /transaction through NGINX
// at rates above what the stack decides, in steps (by default 1x, 1.5x, 2x
// and 3x the contract phase's rate in the same run), sent open loop over
// 1,000 connections (scripts/shared/open-loop.ts). Each step reports what was offered,
// accepted, refused and failed, the latency of the accepted calls and of the
// refused ones, the refusals without Retry-After, and the peak
// memory of the api replicas and NGINX. What it shows: past its capacity the
// stack refuses the surplus at once (503 overloaded, Retry-After) and keeps
// answering the calls it takes, rather than letting every call wait for its
// deadline, a 504 or a hang. Afterwards the audit checks every acknowledged
// call, and a sample of the refused ones is looked up: none may be in the ledger.
import { join } from 'node:path';
import { AckLog } from './ack-log.js';
import { auditAfter } from './audit-after-phase.js';
import { contractShape } from './autocannon-load.js';
import { contractFlow, cpuFields, noteRestarts, settleOwed, type BenchContext } from './bench-context.js';
import { emptyPhase, type PhaseResult } from './bench-result.js';
import { requireStackUp, stackTracked } from './bench-stack.js';
import { isAcknowledged, type Flow, type FlowTx } from './contract-flow.js';
import { OVERLOADED } from '../shared/answer-class.js';
import { OpenLoop, type CallListener, type OpenLoopCall } from '../shared/open-loop.js';
import { lookUpRefused, type RefusedCall } from '../shared/refused-lookup.js';
import { planSteps, StepRecorder, type StepFigures } from './overload-figures.js';
import { sampleCpu, type Tracked } from './process-cpu.js';
import { rssByComponent } from './process-memory.js';
import { perSecond, summarizeLatencies } from './statistics.js';

/** Past NGINX's proxy_read_timeout (15 s): a call NGINX gave up on is seen as its 504, not hidden by the client's own timeout. */
const CALL_TIMEOUT_MS = 20_000;
/** Refused calls kept per step, to look up in the ledger afterwards. */
const REFUSED_SAMPLE_PER_STEP = 50;

interface OverloadCall extends OpenLoopCall {
  tx: FlowTx;
}

/** The contract phase's rate in this run, else the option's. */
export function baseRate(ctx: Pick<BenchContext, 'phases' | 'opts'>): { rps: number; from: 'contract' | 'option' } {
  const contract = ctx.phases.contract;
  if (contract && !contract.error && contract.rps !== null && contract.rps > 0) return { rps: contract.rps, from: 'contract' };
  return { rps: ctx.opts.overloadBaseRate, from: 'option' };
}

function nextCall(flow: Flow): OverloadCall {
  const tx = flow.next();
  return { tx, path: contractShape.path(tx), body: contractShape.body(tx) };
}

/** Accepted calls in each second since `start`: the phase's line in the throughput chart. */
class AcceptedTimeline {
  readonly perSecond: number[] = [];
  constructor(private readonly start: number) {}

  add(at: number): void {
    const second = Math.max(0, Math.floor((at - this.start) / 1000));
    while (this.perSecond.length <= second) this.perSecond.push(0);
    this.perSecond[second]! += 1;
  }
}

function listenerFor(recorder: StepRecorder, flow: Flow, acked: AckLog, refused: RefusedCall[], timeline: AcceptedTimeline): CallListener<OverloadCall> {
  const kept = refused.length + REFUSED_SAMPLE_PER_STEP;
  return {
    sent: (lagMs) => recorder.sent(lagMs),
    unsent: () => recorder.unsent(),
    answered: (call, status, latencyMs, problemType, retryAfter) => {
      const kind = recorder.answer(status, latencyMs, problemType, retryAfter);
      if (kind === 'accepted') timeline.add(Date.now());
      flow.answered(call.tx, status);
      if (isAcknowledged(status)) acked.add(call.tx.id, call.tx.accountId);
      if (kind === 'refused' && problemType === OVERLOADED && refused.length < kept) refused.push({ id: call.tx.id, accountId: call.tx.accountId });
    },
    failed: (call, timeout) => {
      recorder.failed(timeout);
      flow.answered(call.tx, 0);
    },
  };
}

async function runStep(ctx: BenchContext, loop: OpenLoop<OverloadCall>, recorder: StepRecorder, listener: CallListener<OverloadCall>, flow: Flow): Promise<void> {
  const { plan } = recorder;
  const memoryOf: Tracked[] = stackTracked(ctx.stack.info).filter((t) => t.kind === 'api' || t.kind === 'nginx');
  const started = Date.now();
  ctx.progress.start(`overload ${plan.multiplier}x`, plan.seconds, 's');
  const sampler = setInterval(() => {
    recorder.memory(rssByComponent(memoryOf));
    ctx.progress.update(Math.min(plan.seconds, (Date.now() - started) / 1000), `${plan.target_rps.toLocaleString('en-US')} calls/s, ${loop.inFlight} in flight`);
  }, 1000);
  try {
    await loop.run(plan.target_rps, plan.seconds, () => nextCall(flow), listener);
  } finally {
    clearInterval(sampler);
    ctx.progress.stop();
  }
  recorder.memory(rssByComponent(memoryOf));
}

/** The phase's own figures over every step: accepted calls a second, their latency, statuses summed. */
function phaseFigures(steps: StepFigures[], latencies: number[]): Partial<PhaseResult> {
  const seconds = steps.reduce((n, s) => n + s.seconds, 0);
  const status: Record<string, number> = {};
  for (const s of steps) for (const [code, n] of Object.entries(s.status)) status[code] = (status[code] ?? 0) + n;
  const non2xx = Object.fromEntries(Object.entries(status).filter(([code]) => !code.startsWith('2')));
  return {
    rps: perSecond(steps.reduce((n, s) => n + s.accepted, 0), seconds),
    calls: steps.reduce((n, s) => n + s.sent, 0),
    window_s: seconds,
    ...summarizeLatencies(latencies),
    errors: steps.reduce((n, s) => n + s.other, 0),
    timeouts: steps.reduce((n, s) => n + s.timeouts, 0),
    status,
    non2xx,
  };
}

export async function overloadPhase(ctx: BenchContext): Promise<PhaseResult> {
  const { opts } = ctx;
  const url = ctx.stack.info.url;
  const base = baseRate(ctx);
  const plan = planSteps(base.rps, opts.overloadMultipliers, opts.overloadStepS);
  const description =
    `the contract flow over POST /transaction, open loop at ${opts.overloadMultipliers.join('x, ')}x ${base.rps.toLocaleString('en-US')} calls/s ` +
    `(${base.from === 'contract' ? "the contract phase's rate" : '--overload-base-rate'}), ${opts.overloadStepS} s a step, ${opts.overloadConnections.toLocaleString('en-US')} connections`;
  const result = emptyPhase('overload', description);
  await requireStackUp(ctx.stack.info);
  const flow = contractFlow(ctx, 'o', 13);
  const acked = new AckLog(join(ctx.runDir, 'overload-acked.jsonl'));
  const loop = new OpenLoop<OverloadCall>({ url, connections: opts.overloadConnections, headers: contractShape.headers, timeoutMs: CALL_TIMEOUT_MS });
  const refused: RefusedCall[] = [];
  const steps: StepFigures[] = [];
  const latencies: number[] = [];
  const timeline = new AcceptedTimeline(Date.now());
  const before = sampleCpu(stackTracked(ctx.stack.info));
  try {
    for (const step of plan) {
      const recorder = new StepRecorder(step);
      await runStep(ctx, loop, recorder, listenerFor(recorder, flow, acked, refused, timeline), flow);
      steps.push(recorder.figures());
      // One by one: a step's hundreds of thousands would overflow push's arguments.
      for (const ms of recorder.latencies) latencies.push(ms);
      const last = steps.at(-1)!;
      ctx.progress.note(
        `overload ${step.multiplier}x: offered ${last.offered_rps}/s, accepted ${last.accepted_rps}/s (p99 ${last.p99_ms ?? '-'} ms), ` +
          `refused ${last.refused_rps}/s (p99 ${last.refused_p99_ms ?? '-'} ms), other ${last.other_rps}/s, unsent ${last.unsent}`,
      );
    }
  } finally {
    loop.close();
  }
  const after = sampleCpu(stackTracked(ctx.stack.info));
  await settleOwed(url, flow, acked);
  acked.flush();
  Object.assign(result, phaseFigures(steps, latencies), cpuFields(before, after), { base_rps: base.rps, base_from: base.from, steps, flow: flow.counts, timeline: timeline.perSecond });
  noteRestarts(ctx, result, []);
  result.acked = acked.count;
  result.acked_file = acked.file;
  if (opts.audit) {
    ctx.progress.note('auditing after overload...');
    result.audit = await auditAfter(ctx.config, acked.file);
  }
  const lookedUp = await lookUpRefused(url, refused);
  result.refused_checked = lookedUp.checked;
  result.refused_found = lookedUp.found;
  return result;
}

// `npm run bench`: measures the stack through NGINX, each figure against a
// ceiling measured in the same run, and audits the ledger after each phase.
//
//   ceiling      bare Fastify replicas behind a second NGINX (same template, same replica count), keep-alive
//   ceiling-ab   the same without keep-alive (a new connection per call), plus ApacheBench's own figure
//   contract     the card-processor flow over POST /transaction at 150 connections, keep-alive
//   contract-ab  the same flow without keep-alive, as ApacheBench sends calls
//   accept       deposits with `Prefer: respond-async` (skipped until the route exists)
//   drain        a backlog put on a fresh topic first, then consumers timed until lag is zero
//   takeover     a live consumer SIGKILLed under load; time until every partition answers again
//
// Results: bench/results/<stamp>.json, .md, .svg and bench/results/latest.json.
// Flags: see scripts/benchmark/bench-options.ts (--quick, --phases a,b, --duration S ...).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { destination, pino, type Logger } from 'pino';
import { loadConfigOrExit, readConfig, type Config } from '../../common/config.js';
import { activeConsumer } from '../operations/active-consumers.js';
import { runAb } from './apache-bench.js';
import { AckLog } from './ack-log.js';
import { probeAccept } from './accept-probe.js';
import { parseArgs, USAGE, UsageError, type BenchOptions, type PhaseName } from './bench-options.js';
import { auditAfter } from './audit-after-phase.js';
import { ceilingConfig, startCeiling, type Ceiling } from './ceiling-stack.js';
import { cleanupDrain, countRejoins, createDrainTopic, drainNames, produceBacklog, startDrainConsumers, waitDrained } from './backlog-drain.js';
import { DEFAULT_FLOW, Flow, isAcknowledged } from './contract-flow.js';
import { LagSampler } from './lag-sampler.js';
import { acceptShape, contractShape, startLoad, type Shape } from './autocannon-load.js';
import { gitInfo, machineInfo } from './machine-info.js';
import { renderMarkdown } from './results-markdown.js';
import { clockTicks, cpuBetween, sampleCpu, type CpuSample, type Tracked } from './process-cpu.js';
import { Progress } from './progress.js';
import { emptyPhase, type BenchResult, type PhaseResult } from './bench-result.js';
import { perSecondFromCumulative, ratio } from './statistics.js';
import { downComponents, ensureStack, requireStackUp, stackTracked, stopStartedStack, type BenchStack } from './bench-stack.js';
import { renderSvg } from './results-svg.js';
import { probeUntilServed } from './takeover-probe.js';
import { TakeoverTracker } from './takeover-tracker.js';
import { ensureDir, pathsFor, type Paths } from '../stack/paths.js';
import { signalComponent, waitRestarted } from '../stack/running-components.js';
import { killAllOnExit } from '../stack/supervisor.js';
import { sleep, waitFor } from '../shared/wait.js';

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

interface Ctx {
  opts: BenchOptions;
  config: Config;
  paths: Paths;
  stack: BenchStack;
  stamp: string;
  runDir: string;
  log: Logger;
  progress: Progress;
  admin: Admin;
  phases: Record<string, PhaseResult>;
}

/** 20261123203015: sortable, and valid in topic, group and database names. */
function stampOf(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function contractFlow(ctx: Ctx, tag: string, seed: number, shape: 'mixed' | 'deposits' = 'mixed'): Flow {
  return new Flow({
    ...DEFAULT_FLOW,
    accounts: ctx.opts.accounts,
    accountPrefix: `b${ctx.stamp}`,
    idPrefix: `b${ctx.stamp}-${tag}`,
    seed,
    depositShare: shape === 'deposits' ? 1 : DEFAULT_FLOW.depositShare,
  });
}

function cpuFields(before: CpuSample | undefined, after: CpuSample | undefined): Pick<PhaseResult, 'cpu_seconds' | 'cpu_detail' | 'cpu_wall_s' | 'cpu_replaced'> {
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

/** Sends the settlements a flow still owes once its load has stopped, so every approval it saw is followed by its withdrawal. */
async function settleOwed(url: string, flow: Flow, acked: AckLog | undefined): Promise<void> {
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

interface LoadPhaseSpec {
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

/** Components that restarted or are down after a phase (other than one the phase killed on purpose) make its figures suspect. */
function noteRestarts(ctx: Ctx, result: PhaseResult, expected: string[]): void {
  const problems = [...(result.cpu_replaced ?? []), ...downComponents(ctx.stack.info)].filter((n) => !expected.includes(n));
  if (problems.length > 0) result.stack_problems = [...new Set(problems)];
}

async function loadPhase(ctx: Ctx, spec: LoadPhaseSpec): Promise<PhaseResult> {
  const { opts } = ctx;
  const result = emptyPhase(spec.name, spec.description);
  if (spec.live) await requireStackUp(ctx.stack.info);
  const acked = spec.live ? new AckLog(join(ctx.runDir, `${spec.name}-acked.jsonl`)) : undefined;
  const lag = spec.live ? new LagSampler(ctx.admin, ctx.config.groupId, ctx.config.topic) : undefined;
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
  if (spec.live && opts.audit) {
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
async function settleStack(ctx: Ctx): Promise<void> {
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

function ceilingPorts(ctx: Ctx): { port: number; apiBasePort: number } {
  return {
    port: ctx.opts.ceilingPort ?? ctx.config.port + 10,
    apiBasePort: ctx.opts.ceilingApiBasePort ?? ctx.config.apiBasePort + 200,
  };
}

async function portFree(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return false;
  } catch (err) {
    return /ECONNREFUSED/.test(String((err as { cause?: { code?: string } }).cause?.code ?? err));
  }
}

async function ceilingPhases(ctx: Ctx): Promise<void> {
  const { port, apiBasePort } = ceilingPorts(ctx);
  const cconfig = ceilingConfig(ctx.config, port, apiBasePort);
  for (const p of [port, ...Array.from({ length: cconfig.apiReplicas }, (_, i) => apiBasePort + i)]) {
    if (!(await portFree(p))) throw new Error(`port ${p} is taken; set BENCH_CEILING_PORT / BENCH_CEILING_API_BASE_PORT`);
  }
  ctx.progress.note(`ceiling: ${cconfig.apiReplicas} bare Fastify replicas on ${apiBasePort}.. behind NGINX on ${port}`);
  let ceiling: Ceiling | undefined;
  try {
    ceiling = await startCeiling(cconfig, ctx.paths, join(ctx.runDir, 'ceiling'), ctx.log);
    const c = ceiling;
    const tracked = () => [...c.tracked(), { name: 'loadgen', kind: 'loadgen', pid: process.pid, group: false }];
    const description = `bare Fastify POST /transaction with a JSON schema, ${cconfig.apiReplicas} replicas behind NGINX`;
    ctx.phases.ceiling = await loadPhase(ctx, {
      name: 'ceiling',
      description: `${description}, keep-alive`,
      url: c.url,
      keepAlive: true,
      shape: contractShape,
      flow: contractFlow(ctx, 'ck', 11),
      tracked,
      live: false,
    });
    const ab = await loadPhase(ctx, {
      name: 'ceiling-ab',
      description: `${description}, a new connection per call`,
      url: c.url,
      keepAlive: false,
      shape: contractShape,
      flow: contractFlow(ctx, 'ca', 12),
      tracked,
      live: false,
    });
    ctx.progress.start('ceiling-ab (ApacheBench)', ctx.opts.durationS, 's');
    const t0 = Date.now();
    const ticker = setInterval(() => ctx.progress.update(Math.min(ctx.opts.durationS, (Date.now() - t0) / 1000)), 1000);
    try {
      ab.ab = await runAb(
        `${c.url}/transaction`,
        { id: 'ab-ceiling', type: 'deposit', amount: 100, accountId: 'ab-ceiling', timestamp: 0 },
        join(ctx.runDir, 'ceiling-ab-body.json'),
        ctx.opts.connections,
        ctx.opts.durationS,
      );
    } catch (err) {
      ab.ab = { error: (err as Error).message };
    } finally {
      clearInterval(ticker);
      ctx.progress.stop();
    }
    ctx.phases['ceiling-ab'] = ab;
  } finally {
    await ceiling?.stop();
  }
}

async function drainPhase(ctx: Ctx): Promise<PhaseResult> {
  const { config, opts } = ctx;
  const result = emptyPhase('drain', `${opts.drainMessages.toLocaleString('en-US')} messages queued on a fresh topic, then ${config.consumers} consumers timed until lag 0`);
  const names = drainNames(ctx.stamp, config.redisUrl, opts.drainRedisDb);
  const drainDir = ensureDir(join(ctx.runDir, 'drain'));
  let consumers: ReturnType<typeof startDrainConsumers> | undefined;
  // An admin client of its own: once the drain topic is deleted, a client that has fetched its
  // offsets keeps asking for its metadata and fails every later request with UNKNOWN_TOPIC_OR_PARTITION.
  const drainAdmin = new Kafka({ clientId: 'teller-bench-drain', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await drainAdmin.connect();
    await createDrainTopic(config, names);
    ctx.progress.start('drain: produce', opts.drainMessages, 'msgs');
    const produceS = await produceBacklog(config.kafkaBrokers, names.topic, config.partitions, ctx.stamp, opts.drainMessages, opts.accounts, (n) =>
      ctx.progress.update(n),
    );
    ctx.progress.stop();
    result.messages = opts.drainMessages;
    result.produce_s = Math.round(produceS * 100) / 100;
    result.produce_rate = Math.round(opts.drainMessages / produceS);

    const tracked = (): Tracked[] => [
      ...(consumers?.supervised ?? []).map((s) => ({ name: s.name, kind: 'drain-consumer', pid: s.pid, group: true })),
      ...stackTracked(ctx.stack.info).filter((t) => ['kafka', 'ferretdb', 'redis', 'loadgen'].includes(t.kind)),
    ];
    const before = sampleCpu(tracked());
    const t0 = Date.now();
    consumers = startDrainConsumers(config, ctx.paths, names, drainDir, ctx.log);
    const live = consumers;
    ctx.progress.start('drain: apply', opts.drainMessages, 'msgs');
    const samples: { t: number; value: number }[] = [];
    const drained = await waitDrained(
      drainAdmin,
      names,
      opts.drainTimeoutS * 1000,
      (lagNow) => {
        const applied = Math.max(0, opts.drainMessages - lagNow);
        samples.push({ t: Date.now(), value: applied });
        const secs = (Date.now() - t0) / 1000;
        ctx.progress.update(applied, `${Math.round(applied / Math.max(secs, 0.001)).toLocaleString('en-US')} tx/s`);
      },
      () => {
        const dead = live.supervised.find((s) => s.lastExit);
        return dead ? `${dead.name} ${dead.lastExit} (see ${dead.spec.logFile})` : undefined;
      },
    );
    ctx.progress.stop();
    const after = sampleCpu(tracked());
    const seconds = (drained.at - t0) / 1000;
    const applied = opts.drainMessages - drained.lag;
    result.seconds = Math.round(seconds * 100) / 100;
    result.applied = applied;
    result.tps = Math.round(applied / seconds);
    result.rps = result.tps;
    if (!drained.drained) result.error = `not drained within ${opts.drainTimeoutS} s: ${drained.lag.toLocaleString('en-US')} messages left (tps is over what was applied)`;
    if (drained.firstCommitAt !== undefined) {
      result.first_commit_s = Math.round((drained.firstCommitAt - t0) / 10) / 100;
      result.tps_after_first_commit = Math.round(applied / Math.max(0.001, (drained.at - drained.firstCommitAt) / 1000));
    }
    result.peak_lag = drained.peakLag;
    result.timeline = perSecondFromCumulative(samples, t0);
    result.group_rejoins = live.supervised.reduce((n, s) => n + countRejoins(readText(s.spec.logFile)), 0);
    Object.assign(result, cpuFields(before, after));
    if (opts.audit && drained.drained) {
      ctx.progress.note('auditing the drain database...');
      result.audit = await auditAfter({ ...config, topic: names.topic, groupId: names.groupId, mongoDb: names.mongoDb, redisUrl: names.redisUrl });
    }
  } finally {
    ctx.progress.stop();
    await drainAdmin.disconnect().catch(() => undefined);
    await consumers?.stop();
    ctx.progress.note(`drain: removing topic ${names.topic}, database ${names.mongoDb}, Redis database ${opts.drainRedisDb}`);
    const problems = await cleanupDrain(config, names);
    if (problems.length > 0) result.cleanup_problems = problems;
  }
  return result;
}

async function takeoverPhase(ctx: Ctx): Promise<PhaseResult> {
  const { opts, config } = ctx;
  await requireStackUp(ctx.stack.info);
  const owner = ctx.stack.info.components.some((c) => c.kind === 'consumer') ? await activeConsumer(ctx.stack.info) : undefined;
  const victim = ctx.stack.info.components.find((c) => c.name === owner);
  if (!victim) return { ...emptyPhase('takeover', 'no consumer to kill'), skipped: true, reason: 'the stack runs no consumer of its own (external?)' };
  const result = emptyPhase('takeover', `contract load; ${victim.name} SIGKILLed after ${opts.takeoverLeadS} s; time until every partition answers decided 200s again`);
  const acked = new AckLog(join(ctx.runDir, 'takeover-acked.jsonl'));
  const lag = new LagSampler(ctx.admin, config.groupId, config.topic);
  const flow = contractFlow(ctx, 'tk', 4);
  let before: CpuSample | undefined;
  let after: CpuSample | undefined;
  let opened!: () => void;
  const windowOpen = new Promise<void>((r) => (opened = r));
  const tailS = 2;
  const run = startLoad({
    url: ctx.stack.info.url,
    connections: opts.connections,
    warmupS: opts.takeoverLeadS,
    durationS: opts.takeoverMaxS + tailS + 1,
    keepAlive: true,
    flow,
    shape: contractShape,
    acked,
    onWindowOpen: () => {
      before = sampleCpu(stackTracked(ctx.stack.info));
      lag.start();
      opened();
    },
    onWindowClose: () => {
      after = sampleCpu(stackTracked(ctx.stack.info));
    },
  });
  ctx.progress.start('takeover: load', opts.takeoverLeadS, 's');
  const leadTicker = setInterval(() => ctx.progress.update(Math.min(opts.takeoverLeadS, (Date.now() - run.startedAt) / 1000)), 500);
  await windowOpen;
  clearInterval(leadTicker);
  let pid: number;
  try {
    pid = signalComponent(ctx.stack.info, victim.name, 'SIGKILL');
  } catch (err) {
    run.stop();
    await run.done;
    throw err;
  }
  const killedAt = Date.now();
  run.recorder.openAt(killedAt);
  result.killed = { name: victim.name, pid };
  const restarted = waitRestarted(ctx.stack.info, victim.name, pid, opts.takeoverMaxS * 1000).then(
    () => Date.now(),
    () => undefined,
  );
  const tracker = new TakeoverTracker(config.partitions, killedAt);
  ctx.progress.start('takeover: partitions served', config.partitions, 'partitions');
  result.probes = await probeUntilServed({
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
  await sleep(tailS * 1000);
  run.stop();
  const figures = await run.done;
  const restartedAt = await restarted;
  result.restarted_after_s = restartedAt === undefined ? null : Math.round((restartedAt - killedAt) / 10) / 100;
  const peak = await lag.stop();
  Object.assign(result, lag.report());
  await settleOwed(ctx.stack.info.url, flow, acked);
  acked.flush();
  const { seconds: windowS, ...rest } = figures;
  Object.assign(result, rest, { window_s: windowS }, cpuFields(before, after), { peak_lag: peak, flow: flow.counts });
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

async function acceptPhase(ctx: Ctx): Promise<PhaseResult> {
  await requireStackUp(ctx.stack.info);
  const probe = await probeAccept(ctx.stack.info.url);
  const description = 'deposits over POST /v1/accounts/:id/deposits with Prefer: respond-async (202 once Kafka has them)';
  if (!probe.present) return { ...emptyPhase('accept', description), skipped: true, reason: probe.reason };
  return loadPhase(ctx, {
    name: 'accept',
    description,
    url: ctx.stack.info.url,
    keepAlive: true,
    shape: acceptShape,
    flow: contractFlow(ctx, 'ac', 3, 'deposits'),
    tracked: () => stackTracked(ctx.stack.info),
    live: true,
    ratioOf: 'ceiling',
  });
}

async function runPhase(ctx: Ctx, name: string, fn: () => Promise<PhaseResult | void>): Promise<void> {
  ctx.progress.note(`== ${name}`);
  try {
    const r = await fn();
    if (r) ctx.phases[name] = r;
  } catch (err) {
    ctx.progress.stop();
    ctx.log.error({ phase: name, err: (err as Error).message }, 'phase failed');
    ctx.progress.note(`${name} failed: ${(err as Error).message}`);
    ctx.phases[name] = { ...(ctx.phases[name] ?? emptyPhase(name, '')), error: (err as Error).message };
  }
}

function writeResults(ctx: Ctx, result: BenchResult): { json: string; md: string; svg: string } {
  const dir = ensureDir(join(ctx.paths.root, 'bench', 'results'));
  const base = join(dir, `bench-${result.started_at.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')}`);
  const files = { json: `${base}.json`, md: `${base}.md`, svg: `${base}.svg` };
  writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(files.md, renderMarkdown(result));
  writeFileSync(files.svg, renderSvg(result));
  copyFileSync(files.json, join(dir, 'latest.json'));
  copyFileSync(files.md, join(dir, 'latest.md'));
  copyFileSync(files.svg, join(dir, 'latest.svg'));
  return files;
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message === 'help' ? '' : `${err.message}\n`}${USAGE}\n`);
      return err.message === 'help' ? 0 : 2;
    }
    throw err;
  }
  const started = new Date();
  const stamp = stampOf(started);
  const baseConfig = loadConfigOrExit();
  const paths = pathsFor(baseConfig);
  mkdirSync(paths.logs, { recursive: true });
  const runDir = ensureDir(join(paths.run, 'bench', stamp));
  const log = pino({ level: 'info', base: { service: 'bench' } }, destination({ dest: join(runDir, 'bench.log'), sync: true }));
  const progress = new Progress();
  killAllOnExit();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      progress.stop();
      process.stderr.write(`\n${signal}: stopping the benchmark's own processes (see ${runDir})\n`);
      process.exit(130);
    });
  }
  const machine = machineInfo();
  progress.note(`Teller benchmark ${stamp}: phases ${opts.phases.join(', ')}${opts.quick ? ' (quick)' : ''}; logs in ${runDir}`);

  const stack = await ensureStack(paths, (line) => progress.note(line));
  // The running stack's own endpoints and process counts, whatever this shell's environment says:
  // the ceiling runs as many replicas as the stack does, the drain as many consumers.
  const count = (kind: string) => String(stack.info.components.filter((c) => c.kind === kind).length || '');
  const config = readConfig({
    ...process.env,
    KAFKA_BROKERS: stack.info.kafkaBrokers.join(','),
    MONGODB_URI: stack.info.mongoUri,
    REDIS_URL: stack.info.redisUrl,
    API_REPLICAS: count('api'),
    CONSUMERS: count('consumer'),
  });
  const kafka = new Kafka({ clientId: 'teller-bench', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ctx: Ctx = { opts, config, paths, stack, stamp, runDir, log, progress, admin, phases: {} };
  const want = (p: PhaseName) => opts.phases.includes(p);
  const live = (name: string, description: string, keepAlive: boolean, ratioOf: string, seed: number): LoadPhaseSpec => ({
    name,
    description,
    url: stack.info.url,
    keepAlive,
    shape: contractShape,
    flow: contractFlow(ctx, name === 'contract' ? 'c' : 'cab', seed),
    tracked: () => stackTracked(stack.info),
    live: true,
    ratioOf,
  });

  try {
    if (want('ceiling')) await runPhase(ctx, 'ceiling', () => ceilingPhases(ctx));
    const againstStack: PhaseName[] = ['contract', 'contract-ab', 'accept', 'takeover'];
    if (againstStack.some(want)) await runPhase(ctx, 'settle', () => settleStack(ctx));
    if (want('contract')) {
      const d = `deposits, withdrawal requests and a withdrawal after every approval over ${opts.accounts.toLocaleString('en-US')} accounts, keep-alive`;
      await runPhase(ctx, 'contract', () => loadPhase(ctx, live('contract', d, true, 'ceiling', 1)));
    }
    if (want('contract-ab')) {
      const d = 'the contract flow with a new connection per call (Connection: close), as ApacheBench sends calls';
      await runPhase(ctx, 'contract-ab', () => loadPhase(ctx, live('contract-ab', d, false, 'ceiling-ab', 2)));
    }
    if (want('accept')) await runPhase(ctx, 'accept', () => acceptPhase(ctx));
    if (want('drain')) await runPhase(ctx, 'drain', () => drainPhase(ctx));
    if (want('takeover')) await runPhase(ctx, 'takeover', () => takeoverPhase(ctx));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }

  const result: BenchResult = {
    version: 1,
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    git: gitInfo(paths.root),
    machine,
    config: {
      apiReplicas: config.apiReplicas,
      consumers: config.consumers,
      partitions: config.partitions,
      producerLingerMs: config.producerLingerMs,
      producerBatchMax: config.producerBatchMax,
      insertGroupMs: config.insertGroupMs,
      decisionTimeoutMs: config.decisionTimeoutMs,
      sessionTimeoutMs: config.sessionTimeoutMs,
      url: stack.info.url,
    },
    options: { ...opts },
    stack: { url: stack.info.url, started_by_bench: stack.startedPid !== undefined },
    phases: ctx.phases,
  };
  const files = writeResults(ctx, result);
  progress.stop();
  process.stdout.write(`${renderMarkdown(result)}\nresults: ${files.json}\n         ${files.md}\n         ${files.svg}\n`);

  if (stack.startedPid !== undefined && !opts.keepStack) {
    progress.note('stopping the stack the benchmark started (--keep-stack keeps it)');
    await stopStartedStack(stack.startedPid);
  }
  const failed = Object.values(ctx.phases).filter((p) => p.error || (p.audit && !p.audit.ok));
  if (failed.length > 0) {
    process.stderr.write(`phases with errors or audit violations: ${failed.map((p) => p.name).join(', ')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);


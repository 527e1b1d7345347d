// `npm run bench`: measures the stack through NGINX, each figure against a
// ceiling measured in the same run, and audits the ledger after each phase.
//
//   ceiling      bare Fastify replicas behind a second NGINX (same template, same replica count), keep-alive
//   ceiling-ab   the same without keep-alive (a new connection per call), plus ApacheBench's own figure
//   contract     the card-processor flow over POST /transaction at 150 connections, keep-alive
//   contract-ab  the same flow without keep-alive, as ApacheBench sends calls
//   transfers    transfers between random accounts of the same 10,000 over POST /v1/transfers, 150 connections
//   webhooks     the contract flow with 0, 1 and 10 webhook endpoints registered (webhooks-0, -1, -10),
//                each against the ceiling: what the dispatcher's deliveries cost the ledger
//   accept       deposits with `Prefer: respond-async` (skipped until the route exists)
//   overload     the contract flow open loop at 1x, 1.5x, 2x and 3x the contract rate, 1,000 connections:
//                accepted, refused (503 overloaded) and failed calls a second, latency, peak memory
//   drain        a backlog put on a fresh topic first, then consumers timed until lag is zero
//   soak         the contract flow for minutes (only when named): memory per id in the window,
//                the statement on the grown ledger, the rate at the end against the start
//   takeover     a live consumer SIGKILLed under load; time until every partition answers again
//   index-cost   (only when named) ledger documents inserted under each set of the ledger's indexes,
//                into a scratch database: what each index costs an insert; named alone, it needs
//                only the database (MONGODB_URI, or the running stack's) and starts nothing
//
// Each phase has its own file here (*-phase.ts); this runner sets up the run,
// runs the phases asked for and writes the results.
// Results: bench/results/<stamp>.json, .md, .svg and bench/results/latest.json.
// Flags: see scripts/benchmark/bench-options.ts (--quick, --phases a,b, --duration S ...).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { destination, pino } from 'pino';
import { loadConfigOrExit, readConfig, type Config } from '../../common/config.js';
import { ensureDir, pathsFor } from '../stack/paths.js';
import { killAllOnExit } from '../stack/supervisor.js';
import { acceptPhase } from './accept-phase.js';
import { drainPhase } from './backlog-drain-phase.js';
import { webhooksPhase } from './webhooks-phase.js';
import { stampOf, type BenchContext } from './bench-context.js';
import { databaseOnly, parseArgs, USAGE, UsageError, type BenchOptions, type PhaseName } from './bench-options.js';
import { emptyPhase, type BenchResult, type PhaseResult } from './bench-result.js';
import { ensureStack, stackEnvironment, stackForDatabaseOnly, stopStartedStack, type BenchStack } from './bench-stack.js';
import { ceilingPhases } from './ceiling-phase.js';
import { contractAbPhase, contractPhase, transfersPhase } from './contract-phase.js';
import { indexCostPhase } from './index-cost-phase.js';
import { settleStack } from './load-phase.js';
import { soakPhase } from './soak-phase.js';
import { machineInfo } from './machine-info.js';
import { overloadPhase } from './overload-phase.js';
import { Progress } from './progress.js';
import { renderMarkdown } from './results-markdown.js';
import { benchResult, writeResults } from './results-files.js';
import { takeoverPhase } from './takeover-phase.js';

/** The options, or the exit code when they are wrong or help was asked for (the usage is printed then). */
function readOptions(): BenchOptions | number {
  try {
    return parseArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message === 'help' ? '' : `${err.message}\n`}${USAGE}\n`);
      return err.message === 'help' ? 0 : 2;
    }
    throw err;
  }
}

/**
 * The running stack's own endpoints and process counts, whatever this shell's environment says:
 * the ceiling runs as many replicas as the stack does, the drain as many consumers.
 */
function stackConfig(stack: BenchStack): Config {
  const count = (kind: string) => String(stack.info.components.filter((c) => c.kind === kind).length || '');
  return readConfig({
    ...process.env,
    KAFKA_BROKERS: stack.info.kafkaBrokers.join(','),
    MONGODB_URI: stack.info.mongoUri,
    REDIS_URL: stack.info.redisUrl,
    API_REPLICAS: count('api'),
    CONSUMERS: count('consumer'),
  });
}

/** Everything the phases share, with the stack started if none runs; `machine` is read before that start. */
async function openRun(opts: BenchOptions, started: Date): Promise<{ ctx: BenchContext; machine: BenchResult['machine'] }> {
  const stamp = stampOf(started);
  const paths = pathsFor(loadConfigOrExit());
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
  // Phases of the database alone take the running stack's description if there is one, and start nothing.
  const needsStack = !databaseOnly(opts.phases);
  const stack = needsStack ? await ensureStack(paths, (line) => progress.note(line), stackEnvironment(opts.phases)) : stackForDatabaseOnly(paths, loadConfigOrExit());
  const config = stackConfig(stack);
  // Not connected for phases of the database alone: none of them asks Kafka anything.
  const admin = new Kafka({ clientId: 'teller-bench', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  if (needsStack) await admin.connect();
  return { ctx: { opts, config, paths, stack, stamp, runDir, log, progress, admin, phases: {} }, machine };
}

/** Runs one phase; a phase that throws is recorded with its error and the run goes on. */
async function runPhase(ctx: BenchContext, name: string, run: () => Promise<PhaseResult | void>): Promise<void> {
  ctx.progress.note(`== ${name}`);
  try {
    const result = await run();
    if (result) ctx.phases[name] = result;
  } catch (err) {
    ctx.progress.stop();
    ctx.log.error({ phase: name, err: (err as Error).message }, 'phase failed');
    ctx.progress.note(`${name} failed: ${(err as Error).message}`);
    ctx.phases[name] = { ...(ctx.phases[name] ?? emptyPhase(name, '')), error: (err as Error).message };
  }
}

async function runPhases(ctx: BenchContext): Promise<void> {
  const want = (p: PhaseName) => ctx.opts.phases.includes(p);
  if (want('ceiling')) await runPhase(ctx, 'ceiling', () => ceilingPhases(ctx));
  const againstStack: PhaseName[] = ['contract', 'contract-ab', 'transfers', 'webhooks', 'accept', 'overload', 'soak', 'takeover'];
  if (againstStack.some(want)) await runPhase(ctx, 'settle', () => settleStack(ctx));
  if (want('contract')) await runPhase(ctx, 'contract', () => contractPhase(ctx));
  if (want('contract-ab')) await runPhase(ctx, 'contract-ab', () => contractAbPhase(ctx));
  if (want('transfers')) await runPhase(ctx, 'transfers', () => transfersPhase(ctx));
  if (want('webhooks')) await runPhase(ctx, 'webhooks', () => webhooksPhase(ctx));
  if (want('accept')) await runPhase(ctx, 'accept', () => acceptPhase(ctx));
  if (want('overload')) await runPhase(ctx, 'overload', () => overloadPhase(ctx));
  if (want('drain')) await runPhase(ctx, 'drain', () => drainPhase(ctx));
  if (want('soak')) await runPhase(ctx, 'soak', () => soakPhase(ctx));
  if (want('takeover')) await runPhase(ctx, 'takeover', () => takeoverPhase(ctx));
  if (want('index-cost')) await runPhase(ctx, 'index-cost', () => indexCostPhase(ctx));
}

async function main(): Promise<number> {
  const opts = readOptions();
  if (typeof opts === 'number') return opts;
  const started = new Date();
  const { ctx, machine } = await openRun(opts, started);
  try {
    await runPhases(ctx);
  } finally {
    await ctx.admin.disconnect().catch(() => undefined);
  }
  const result = benchResult(ctx, started, machine);
  const files = writeResults(ctx, result);
  ctx.progress.stop();
  process.stdout.write(`${renderMarkdown(result)}\nresults: ${files.json}\n         ${files.md}\n         ${files.svg}\n`);
  if (ctx.stack.startedPid !== undefined && !opts.keepStack) {
    ctx.progress.note('stopping the stack the benchmark started (--keep-stack keeps it)');
    await stopStartedStack(ctx.stack.startedPid);
  }
  const failed = Object.values(ctx.phases).filter((p) => p.error || (p.audit && !p.audit.ok));
  if (failed.length > 0) process.stderr.write(`phases with errors or audit violations: ${failed.map((p) => p.name).join(', ')}\n`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);

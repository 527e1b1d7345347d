// The soak phase: the contract flow against the live stack for long enough to
// put millions of ids in the id window (--soak-duration, --soak-rate). The
// stack's memory is read at rest before the load and after it (consumers
// caught up) and sampled while it runs; then the statement is read on the
// grown ledger, the ledger counted, and the accepted rate at the end set
// against the start. Last, once the outcome horizon has passed, Redis is read
// again: what it keeps per id lives OUTCOME_TTL_SECONDS, so only then does its
// used_memory show what it retains. The arithmetic is in soak-figures.ts.
//
// No audit: it holds the whole ledger and a replay of the whole log in memory,
// which a soak makes millions of documents long (`npm run audit` afterwards).
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import type { Config } from '../../common/config.js';
import { withTimeout } from '../shared/wait.js';
import { contractShape, startLoad } from './autocannon-load.js';
import { contractFlow, cpuFields, noteRestarts, settleOwed, type BenchContext } from './bench-context.js';
import { emptyPhase, type PhaseResult } from './bench-result.js';
import { requireStackUp, stackTracked } from './bench-stack.js';
import { isAcknowledged, type Flow } from './contract-flow.js';
import { LagSampler, waitCaughtUp } from './lag-sampler.js';
import type { LoadFigures } from './load-recorder.js';
import { sampleCpu, type CpuSample } from './process-cpu.js';
import { rateEndOverStart, rateWindowS, soakMemoryFigures, type SoakFields } from './soak-figures.js';
import { keysWithTtlNote, readPastHorizon } from './soak-horizon.js';
import { MemoryTimeline, sampleIntervalS, sampleMemory, type MemorySample } from './soak-memory.js';
import { probeStatements, STATEMENT_PAGE, statementAccounts, statementFigures } from './statement-probe.js';

/** The longest wait for the consumers to apply what the load left, before each memory reading at rest. */
const CATCH_UP_MS = 120_000;
/**
 * A reading at rest waits a snapshot interval and 15 s more once the consumers
 * caught up (at most two minutes), so that the snapshot of the last batches is
 * written and what its writing held is let go before the heaps are read. (At
 * e31528d the owner read 41.6 MB outside V8's heap right after the catch-up and
 * 24.3 MB two minutes later; both were read after one full collection, which
 * still counts the buffers it found dead: see common/metrics-server.ts.)
 */
export function quietMs(snapshotIntervalMs: number): number {
  return Math.min(120_000, snapshotIntervalMs + 15_000);
}
/** The statement reads stop after this long, however many are left. */
const STATEMENTS_MAX_MS = 120_000;
/** The longest wait for the ledger count. */
const COUNT_TIMEOUT_MS = 300_000;

interface SoakLoad {
  figures: LoadFigures;
  /** Acknowledged calls (2xx, 402) in each complete second since the load began, warm-up included. */
  acceptedPerSecond: number[];
  acknowledged: number;
  cpu: { before?: CpuSample; after?: CpuSample };
}

async function runSoakLoad(ctx: BenchContext, flow: Flow, lag: LagSampler, timeline: MemoryTimeline): Promise<SoakLoad> {
  const { opts } = ctx;
  const totalS = opts.warmupS + opts.soakDurationS;
  const accepted: number[] = [];
  let acknowledged = 0;
  const cpu: SoakLoad['cpu'] = {};
  ctx.progress.start('soak', totalS, 's');
  const run = startLoad({
    url: ctx.stack.info.url,
    connections: opts.connections,
    warmupS: opts.warmupS,
    durationS: opts.soakDurationS,
    keepAlive: true,
    flow,
    shape: contractShape,
    overallRate: opts.soakRate > 0 ? opts.soakRate : undefined,
    onAnswer: (status) => {
      if (!isAcknowledged(status)) return;
      acknowledged++;
      const second = Math.floor((Date.now() - run.startedAt) / 1000);
      while (accepted.length <= second) accepted.push(0);
      accepted[second]!++;
    },
    onWindowOpen: () => {
      cpu.before = sampleCpu(stackTracked(ctx.stack.info));
      lag.start();
    },
    onWindowClose: () => {
      cpu.after = sampleCpu(stackTracked(ctx.stack.info));
    },
    onTick: (elapsed, answered) => ctx.progress.update(Math.min(totalS, elapsed), `${answered.toLocaleString('en-US')} calls`),
  });
  timeline.start();
  const figures = await run.done;
  ctx.progress.stop();
  // Answers after the window closed fall in a second the load did not fill.
  const acceptedPerSecond = Array.from({ length: totalS }, (_, i) => accepted[i] ?? 0);
  return { figures, acceptedPerSecond, acknowledged, cpu };
}

/** Memory at rest: once the consumers have applied everything (their ids gauge counts decided batches only). */
async function restingSample(ctx: BenchContext, redis: Redis, notes: string[], when: string): Promise<MemorySample> {
  const { config } = ctx;
  ctx.progress.note(`soak: waiting for the consumers to catch up (${when})`);
  if (!(await waitCaughtUp(ctx.admin, config.groupId, config.topic, CATCH_UP_MS))) notes.push(`the consumers had not caught up ${CATCH_UP_MS / 1000} s after the load (${when})`);
  const quiet = quietMs(config.snapshotIntervalMs);
  ctx.progress.note(`soak: ${quiet / 1000} s quiet before reading the memory (${when})`);
  await new Promise((resolve) => setTimeout(resolve, quiet));
  return sampleMemory(ctx.stack.info, redis, true);
}

async function readStatements(ctx: BenchContext, flow: Flow): Promise<SoakFields> {
  const count = ctx.opts.soakStatements;
  ctx.progress.start('soak: statements', count, 'pages');
  const answers = await probeStatements({
    url: ctx.stack.info.url,
    accounts: statementAccounts((n) => flow.account(n), ctx.opts.accounts, count),
    maxMs: STATEMENTS_MAX_MS,
    onProgress: (done) => ctx.progress.update(done),
  });
  ctx.progress.stop();
  return statementFigures(answers);
}

/** The ledger's size as MongoDB (or FerretDB) estimates it; the wait is bounded, as FerretDB's SQLite backend counts by reading the table. */
async function ledgerDocuments(config: Config): Promise<SoakFields> {
  const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 5000 });
  try {
    const count = mongo.db(config.mongoDb).collection('transactions').estimatedDocumentCount();
    return { ledger_documents: await withTimeout(count, COUNT_TIMEOUT_MS + 5000, 'estimatedDocumentCount of transactions') };
  } catch (err) {
    return { ledger_documents: null, ledger_error: (err as Error).message };
  } finally {
    await withTimeout(mongo.close(), 5000, 'closing MongoDB').catch(() => undefined);
  }
}

function rateFields(ctx: BenchContext, load: SoakLoad): SoakFields {
  const windowS = rateWindowS(ctx.opts.soakDurationS);
  const rate = rateEndOverStart(load.acceptedPerSecond, ctx.opts.warmupS, windowS);
  return { rate_window_s: windowS, rate_start: rate.start, rate_end: rate.end, rate_end_over_start: rate.ratio };
}

function soakDescription(ctx: BenchContext): string {
  const { opts } = ctx;
  const rate = opts.soakRate > 0 ? ` at ${opts.soakRate.toLocaleString('en-US')} calls/s at most` : '';
  return `the contract flow for ${opts.soakDurationS} s${rate} over ${opts.connections} connections; memory at rest before and after, then pages of ${STATEMENT_PAGE} of the statement on the grown ledger`;
}

export async function soakPhase(ctx: BenchContext): Promise<PhaseResult> {
  const { config, opts } = ctx;
  await requireStackUp(ctx.stack.info);
  const result = emptyPhase('soak', soakDescription(ctx));
  const notes: string[] = [];
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  redis.on('error', () => undefined); // a failed reading is a null figure
  try {
    const start = await restingSample(ctx, redis, notes, 'before the load');
    const flow = contractFlow(ctx, 'soak', 5);
    const lag = new LagSampler(ctx.admin, config.groupId, config.topic);
    const timeline = new MemoryTimeline(() => sampleMemory(ctx.stack.info, redis), sampleIntervalS(opts.soakDurationS) * 1000);
    const load = await runSoakLoad(ctx, flow, lag, timeline);
    const during = await timeline.stop();
    const peak = await lag.stop();
    await settleOwed(ctx.stack.info.url, flow, undefined);
    const end = await restingSample(ctx, redis, notes, 'after the load');
    const { seconds, ...rest } = load.figures;
    Object.assign(result, rest, { window_s: seconds }, cpuFields(load.cpu.before, load.cpu.after), lag.report(), { peak_lag: peak, flow: flow.counts });
    Object.assign(result, rateFields(ctx, load));
    Object.assign(result, await readStatements(ctx, flow));
    Object.assign(result, await ledgerDocuments(config));
    // The consumers wrote their last outcomes before `end` was read: they had caught up and been quiet.
    const horizon = await readPastHorizon(redis, end.at, config.outcomeTtlSeconds, opts.soakHorizonWaitS, (message) => ctx.progress.note(`soak: ${message}`));
    const memory = soakMemoryFigures(start, end, [start, ...during, end], load.acknowledged, horizon.usedBytes);
    Object.assign(result, memory, { redis_keys_with_ttl_past_horizon: horizon.keysWithTtl });
    notes.push(...horizon.notes, ...keysWithTtlNote(horizon.keysWithTtl, memory.ids_added, config.outcomeTtlSeconds));
    if (timeline.failed > 0) notes.push(`${timeline.failed} memory samples failed during the load`);
    result.soak_notes = [...(memory.soak_notes ?? []), ...notes];
    noteRestarts(ctx, result, []);
  } finally {
    ctx.progress.stop();
    redis.disconnect();
  }
  return result;
}

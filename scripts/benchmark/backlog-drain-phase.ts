// The drain phase: a backlog put on a fresh topic first, then the stack's
// consumer count of ledger consumers started on it and timed until the lag is
// zero (scripts/benchmark/backlog-drain.ts has the topic, the consumers and the
// clean-up). Nothing of the live stack is touched.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { ensureDir } from '../stack/paths.js';
import { auditAfter } from './audit-after-phase.js';
import {
  cleanupDrain,
  countRejoins,
  createDrainTopic,
  drainNames,
  produceBacklog,
  startDrainConsumers,
  waitDrained,
  type DrainConsumers,
  type DrainNames,
} from './backlog-drain.js';
import { cpuFields, type BenchContext } from './bench-context.js';
import { emptyPhase, type PhaseResult } from './bench-result.js';
import { stackTracked } from './bench-stack.js';
import { sampleCpu, type Tracked } from './process-cpu.js';
import { perSecondFromCumulative } from './statistics.js';

type Drained = Awaited<ReturnType<typeof waitDrained>>;

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function produceStep(ctx: BenchContext, names: DrainNames, result: PhaseResult): Promise<void> {
  const { config, opts } = ctx;
  ctx.progress.start('drain: produce', opts.drainMessages, 'msgs');
  const produceS = await produceBacklog(config.kafkaBrokers, names.topic, config.partitions, ctx.stamp, opts.drainMessages, opts.accounts, (n) =>
    ctx.progress.update(n),
  );
  ctx.progress.stop();
  result.messages = opts.drainMessages;
  result.produce_s = Math.round(produceS * 100) / 100;
  result.produce_rate = Math.round(opts.drainMessages / produceS);
}

/** The drain's figures: time and rate to lag 0, from the first commit on, the lag's peak, the rejoins. */
function recordDrained(ctx: BenchContext, result: PhaseResult, drained: Drained, t0: number, samples: { t: number; value: number }[], consumers: DrainConsumers): void {
  const { opts } = ctx;
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
  result.group_rejoins = consumers.supervised.reduce((n, s) => n + countRejoins(readText(s.spec.logFile)), 0);
}

/** Starts the consumers on the backlog and times them until the lag is zero; `running` holds them for the clean-up. */
async function applyStep(
  ctx: BenchContext,
  names: DrainNames,
  admin: Admin,
  drainDir: string,
  running: { consumers?: DrainConsumers },
  result: PhaseResult,
): Promise<Drained> {
  const { config, opts } = ctx;
  const tracked = (): Tracked[] => [
    ...(running.consumers?.supervised ?? []).map((s) => ({ name: s.name, kind: 'drain-consumer', pid: s.pid, group: true })),
    ...stackTracked(ctx.stack.info).filter((t) => ['kafka', 'ferretdb', 'redis', 'loadgen'].includes(t.kind)),
  ];
  const before = sampleCpu(tracked());
  const t0 = Date.now();
  const consumers = startDrainConsumers(config, ctx.paths, names, drainDir, ctx.log);
  running.consumers = consumers;
  ctx.progress.start('drain: apply', opts.drainMessages, 'msgs');
  const samples: { t: number; value: number }[] = [];
  const onLag = (lagNow: number) => {
    const applied = Math.max(0, opts.drainMessages - lagNow);
    samples.push({ t: Date.now(), value: applied });
    const secs = (Date.now() - t0) / 1000;
    ctx.progress.update(applied, `${Math.round(applied / Math.max(secs, 0.001)).toLocaleString('en-US')} tx/s`);
  };
  const deadConsumer = () => {
    const dead = consumers.supervised.find((s) => s.lastExit);
    return dead ? `${dead.name} ${dead.lastExit} (see ${dead.spec.logFile})` : undefined;
  };
  const drained = await waitDrained(admin, names, opts.drainTimeoutS * 1000, onLag, deadConsumer);
  ctx.progress.stop();
  const after = sampleCpu(tracked());
  recordDrained(ctx, result, drained, t0, samples, consumers);
  Object.assign(result, cpuFields(before, after));
  return drained;
}

export async function drainPhase(ctx: BenchContext): Promise<PhaseResult> {
  const { config, opts } = ctx;
  const result = emptyPhase('drain', `${opts.drainMessages.toLocaleString('en-US')} messages queued on a fresh topic, then ${config.consumers} consumers timed until lag 0`);
  const names = drainNames(ctx.stamp, config.redisUrl, opts.drainRedisDb);
  const drainDir = ensureDir(join(ctx.runDir, 'drain'));
  const running: { consumers?: DrainConsumers } = {};
  // An admin client of its own: once the drain topic is deleted, a client that has fetched its
  // offsets keeps asking for its metadata and fails every later request with UNKNOWN_TOPIC_OR_PARTITION.
  const drainAdmin = new Kafka({ clientId: 'teller-bench-drain', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await drainAdmin.connect();
    await createDrainTopic(config, names);
    await produceStep(ctx, names, result);
    const drained = await applyStep(ctx, names, drainAdmin, drainDir, running, result);
    if (opts.audit && drained.drained) {
      ctx.progress.note('auditing the drain database...');
      result.audit = await auditAfter({ ...config, topic: names.topic, groupId: names.groupId, mongoDb: names.mongoDb, redisUrl: names.redisUrl });
    }
  } finally {
    ctx.progress.stop();
    await drainAdmin.disconnect().catch(() => undefined);
    await running.consumers?.stop();
    ctx.progress.note(`drain: removing topic ${names.topic}, database ${names.mongoDb}, Redis database ${opts.drainRedisDb}`);
    const problems = await cleanupDrain(config, names);
    if (problems.length > 0) result.cleanup_problems = problems;
  }
  return result;
}

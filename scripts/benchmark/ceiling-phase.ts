// The ceiling phases: the stack's replica count of bare Fastify processes
// behind a second NGINX, loaded with keep-alive (ceiling) and with a new
// connection per call (ceiling-ab, plus ApacheBench's own figure). Every other
// phase's ratio is against one of them, measured in the same run.
import { join } from 'node:path';
import { runAb } from './apache-bench.js';
import { contractShape } from './autocannon-load.js';
import { contractFlow, type BenchContext } from './bench-context.js';
import type { PhaseResult } from './bench-result.js';
import { ceilingConfig, startCeiling, type Ceiling } from './ceiling-stack.js';
import { loadPhase } from './load-phase.js';
import type { Tracked } from './process-cpu.js';

/**
 * The ceiling's NGINX and replicas, beside the running stack's ports: its
 * replicas 400 above the stack's, clear of the consumers' metrics (+100) and
 * the webhook dispatcher's (+200 by default).
 */
export function ceilingPorts(ctx: Pick<BenchContext, 'opts' | 'config'>): { port: number; apiBasePort: number } {
  return {
    port: ctx.opts.ceilingPort ?? ctx.config.port + 10,
    apiBasePort: ctx.opts.ceilingApiBasePort ?? ctx.config.apiBasePort + 400,
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

/** ApacheBench against the ceiling for the measured duration, its figures added to the ceiling-ab phase. */
async function apacheBenchFigures(ctx: BenchContext, url: string, phase: PhaseResult): Promise<void> {
  ctx.progress.start('ceiling-ab (ApacheBench)', ctx.opts.durationS, 's');
  const t0 = Date.now();
  const ticker = setInterval(() => ctx.progress.update(Math.min(ctx.opts.durationS, (Date.now() - t0) / 1000)), 1000);
  try {
    phase.ab = await runAb(
      `${url}/transaction`,
      { id: 'ab-ceiling', type: 'deposit', amount: 100, accountId: 'ab-ceiling', timestamp: 0 },
      join(ctx.runDir, 'ceiling-ab-body.json'),
      ctx.opts.connections,
      ctx.opts.durationS,
    );
  } catch (err) {
    phase.ab = { error: (err as Error).message };
  } finally {
    clearInterval(ticker);
    ctx.progress.stop();
  }
}

async function loadCeiling(ctx: BenchContext, ceiling: Ceiling, replicas: number): Promise<void> {
  const tracked = (): Tracked[] => [...ceiling.tracked(), { name: 'loadgen', kind: 'loadgen', pid: process.pid, group: false }];
  const description = `bare Fastify POST /transaction with a JSON schema, ${replicas} replicas behind NGINX`;
  ctx.phases.ceiling = await loadPhase(ctx, {
    name: 'ceiling',
    description: `${description}, keep-alive`,
    url: ceiling.url,
    keepAlive: true,
    shape: contractShape,
    flow: contractFlow(ctx, 'ck', 11),
    tracked,
    live: false,
  });
  const ab = await loadPhase(ctx, {
    name: 'ceiling-ab',
    description: `${description}, a new connection per call`,
    url: ceiling.url,
    keepAlive: false,
    shape: contractShape,
    flow: contractFlow(ctx, 'ca', 12),
    tracked,
    live: false,
  });
  await apacheBenchFigures(ctx, ceiling.url, ab);
  ctx.phases['ceiling-ab'] = ab;
}

/** Both ceiling phases; they set ctx.phases themselves, as they are two results of one setup. */
export async function ceilingPhases(ctx: BenchContext): Promise<void> {
  const { port, apiBasePort } = ceilingPorts(ctx);
  const config = ceilingConfig(ctx.config, port, apiBasePort);
  for (const p of [port, ...Array.from({ length: config.apiReplicas }, (_, i) => apiBasePort + i)]) {
    if (!(await portFree(p))) throw new Error(`port ${p} is taken; set BENCH_CEILING_PORT / BENCH_CEILING_API_BASE_PORT`);
  }
  ctx.progress.note(`ceiling: ${config.apiReplicas} bare Fastify replicas on ${apiBasePort}.. behind NGINX on ${port}`);
  let ceiling: Ceiling | undefined;
  try {
    ceiling = await startCeiling(config, ctx.paths, join(ctx.runDir, 'ceiling'), ctx.log);
    await loadCeiling(ctx, ceiling, config.apiReplicas);
  } finally {
    await ceiling?.stop();
  }
}

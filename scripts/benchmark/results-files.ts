// A benchmark run's results: the JSON document with stable keys, written with
// its markdown table and SVG chart to bench/results/, each also copied to
// latest.{json,md,svg}.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir } from '../stack/paths.js';
import type { BenchContext } from './bench-context.js';
import type { BenchResult } from './bench-result.js';
import { gitInfo } from './machine-info.js';
import { renderMarkdown } from './results-markdown.js';
import { renderSvg } from './results-svg.js';

export function benchResult(ctx: BenchContext, started: Date, machine: BenchResult['machine']): BenchResult {
  const { config, stack } = ctx;
  return {
    version: 1,
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    git: gitInfo(ctx.paths.root),
    machine,
    config: {
      apiReplicas: config.apiReplicas,
      consumers: config.consumers,
      partitions: config.partitions,
      producerLingerMs: config.producerLingerMs,
      producerBatchMax: config.producerBatchMax,
      insertGroupMs: config.insertGroupMs,
      decisionTimeoutMs: config.decisionTimeoutMs,
      maxCallsInFlight: config.maxCallsInFlight,
      sessionTimeoutMs: config.sessionTimeoutMs,
      durability: config.durability,
      kafkaNodes: config.kafkaNodes,
      url: stack.info.url,
    },
    options: { ...ctx.opts },
    stack: { url: stack.info.url, started_by_bench: stack.startedPid !== undefined },
    phases: ctx.phases,
  };
}

export function writeResults(ctx: BenchContext, result: BenchResult): { json: string; md: string; svg: string } {
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

// `npm run bench:durability`: what each TELLER_DURABILITY setting costs
// (docs/durability.md), in one run: for each setting in turn, the benchmark
// starts its own stack with that setting, runs its phases (by default the
// ceiling, the contract and the drain) and stops it; then one table compares
// each setting's figures with the first's.
//
//   node dist/scripts/benchmark/durability-compare.js [--settings fast,fsync] [any flag of npm run bench]
// Needs no running stack (each setting needs a stack of its own); results in
// bench/results/durability-<stamp>.{json,md}.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigOrExit, type Durability } from '../../common/config.js';
import { ensureDir, pathsFor } from '../stack/paths.js';
import { runningStackPid } from '../stack/stack-file.js';
import type { BenchResult } from './bench-result.js';

const SETTINGS: readonly Durability[] = ['fast', 'fsync', 'replicated'];

export interface SettingFigures {
  durability: Durability;
  ceiling_rps: number | null;
  contract_rps: number | null;
  contract_ratio: number | null;
  contract_p99_ms: number | null;
  drain_tps: number | null;
  errors: string[];
}

/** The figures of one benchmark run that compare settings, and the phases that failed. */
export function figuresOf(durability: Durability, result: BenchResult): SettingFigures {
  const { ceiling, contract, drain } = result.phases;
  const errors = Object.values(result.phases)
    .filter((p) => p.error || (p.audit && !p.audit.ok))
    .map((p) => `${p.name}: ${p.error ?? 'audit failed'}`);
  return {
    durability,
    ceiling_rps: ceiling?.rps ?? null,
    contract_rps: contract?.rps ?? null,
    contract_ratio: contract?.ratio ?? null,
    contract_p99_ms: contract?.p99_ms ?? null,
    drain_tps: drain?.tps ?? null,
    errors,
  };
}

const ratio = (value: number | null, base: number | null) => (value === null || !base ? '-' : `${((value / base) * 100).toFixed(0)}%`);
const number = (value: number | null) => (value === null ? '-' : value.toLocaleString('en-US'));

/** One row a setting: its figures, and the contract and drain rates as shares of the first setting's. */
export function durabilityTable(rows: SettingFigures[]): string {
  const base = rows[0];
  const lines = rows.map(
    (r) =>
      `| ${r.durability} | ${number(r.ceiling_rps)} | ${number(r.contract_rps)} (${r.contract_ratio === null ? '-' : `${(r.contract_ratio * 100).toFixed(1)}% of ceiling`}) | ${number(r.contract_p99_ms)} | ${number(r.drain_tps)} | ${ratio(r.contract_rps, base?.contract_rps ?? null)} | ${ratio(r.drain_tps, base?.drain_tps ?? null)} | ${r.errors.join('; ') || '-'} |`,
  );
  return [
    `| TELLER_DURABILITY | ceiling calls/s | contract calls/s | contract p99 ms | drain tx/s | contract vs ${base?.durability ?? '-'} | drain vs ${base?.durability ?? '-'} | errors |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...lines,
  ].join('\n');
}

/** `--settings a,b` and the flags passed on to each benchmark run. */
export function parseArguments(argv: string[]): { settings: Durability[]; benchArgs: string[] } {
  const at = argv.indexOf('--settings');
  const named = at >= 0 ? (argv[at + 1] ?? '').split(',') : ['fast', 'fsync'];
  const unknown = named.filter((s) => !SETTINGS.includes(s as Durability));
  if (unknown.length > 0 || named.length === 0) throw new Error(`--settings takes some of ${SETTINGS.join(', ')}; not ${unknown.join(', ')}`);
  const benchArgs = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : [...argv];
  if (!benchArgs.includes('--phases')) benchArgs.push('--phases', 'ceiling,contract,drain');
  return { settings: named as Durability[], benchArgs };
}

function main(): number {
  const config = loadConfigOrExit();
  const paths = pathsFor(config);
  if (runningStackPid(paths) !== undefined) {
    process.stderr.write('a stack is running from this folder: stop it (npm run stop); each setting starts a stack of its own\n');
    return 2;
  }
  const { settings, benchArgs } = parseArguments(process.argv.slice(2));
  const rows: SettingFigures[] = [];
  for (const durability of settings) {
    process.stderr.write(`durability: ${durability}: npm run bench -- ${benchArgs.join(' ')}\n`);
    const startedAt = new Date().toISOString();
    const run = spawnSync(process.execPath, [join(paths.root, 'dist', 'scripts', 'benchmark', 'run-benchmark.js'), ...benchArgs], {
      cwd: paths.root,
      env: { ...process.env, TELLER_DURABILITY: durability },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const result = JSON.parse(readFileSync(join(paths.root, 'bench', 'results', 'latest.json'), 'utf8')) as BenchResult;
    // A run that died before writing its results leaves an older run's: none of its figures are this setting's.
    const figures = result.started_at >= startedAt ? figuresOf(durability, result) : { ...figuresOf(durability, { ...result, phases: {} }), errors: ['the benchmark wrote no results'] };
    if (run.status !== 0 && figures.errors.length === 0) figures.errors.push(`the benchmark exited with ${run.status}`);
    rows.push(figures);
  }
  const table = durabilityTable(rows);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = ensureDir(join(paths.root, 'bench', 'results'));
  writeFileSync(join(dir, `durability-${stamp}.json`), `${JSON.stringify({ at: new Date().toISOString(), benchArgs, settings: rows }, null, 2)}\n`);
  writeFileSync(join(dir, `durability-${stamp}.md`), `# Durability settings, ${stamp}\n\n${table}\n`);
  process.stdout.write(`${table}\n`);
  return rows.some((r) => r.errors.length > 0) ? 1 : 0;
}

if (process.argv[1]?.endsWith('durability-compare.js')) process.exit(main());

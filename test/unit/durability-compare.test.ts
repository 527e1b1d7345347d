// The durability comparison's own parts (scripts/benchmark/durability-compare.ts):
// its arguments, the figures it takes from a benchmark run, and its table.
import t from 'tap';
import { durabilityTable, figuresOf, parseArguments } from '../../scripts/benchmark/durability-compare.js';
import { emptyPhase, type BenchResult } from '../../scripts/benchmark/bench-result.js';

function run(contractRps: number, drainTps: number, contractError?: string): BenchResult {
  const ceiling = { ...emptyPhase('ceiling', ''), rps: 20_000 };
  const contract = { ...emptyPhase('contract', ''), rps: contractRps, ratio: contractRps / 20_000, p99_ms: 90, ...(contractError ? { error: contractError } : {}) };
  const drain = { ...emptyPhase('drain', ''), rps: drainTps, tps: drainTps };
  return { phases: { ceiling, contract, drain } } as unknown as BenchResult;
}

t.test('arguments: the settings, and the benchmark flags passed on with its default phases', async (t) => {
  t.same(parseArguments([]), { settings: ['fast', 'fsync'], benchArgs: ['--phases', 'ceiling,contract,drain'] });
  t.same(parseArguments(['--duration', '10', '--settings', 'fast,replicated']), { settings: ['fast', 'replicated'], benchArgs: ['--duration', '10', '--phases', 'ceiling,contract,drain'] });
  t.same(parseArguments(['--phases', 'contract']).benchArgs, ['--phases', 'contract'], 'phases named: kept');
  t.throws(() => parseArguments(['--settings', 'fast,safe']), /not safe/);
});

t.test('figures: rates, p99 and the phases that failed', async (t) => {
  const figures = figuresOf('fsync', run(3000, 15_000, 'boom'));
  t.equal(figures.contract_rps, 3000);
  t.equal(figures.drain_tps, 15_000);
  t.equal(figures.ceiling_rps, 20_000);
  t.same(figures.errors, ['contract: boom']);
});

t.test('the table compares each setting with the first', async (t) => {
  const table = durabilityTable([figuresOf('fast', run(4000, 20_000)), figuresOf('fsync', run(3000, 10_000))]);
  const rows = table.split('\n');
  t.equal(rows.length, 4);
  t.match(rows[2], /^\| fast \| 20,000 \| 4,000 \(20\.0% of ceiling\) \| 90 \| 20,000 \| 100% \| 100% \| - \|$/);
  t.match(rows[3], /^\| fsync \| 20,000 \| 3,000 \(15\.0% of ceiling\) \| 90 \| 10,000 \| 75% \| 50% \| - \|$/);
});

// The chaos report's table (scripts/chaos/run-case.ts): a row per case, and
// what a fault told of itself (the overload case's burst) in its own column.
import t from 'tap';
import { FAULTS } from '../../scripts/chaos/faults.js';
import { markdownTable, type CaseReport } from '../../scripts/chaos/run-case.js';

const report = (over: Partial<CaseReport>): CaseReport => ({
  name: 'api-kill',
  describe: '',
  calls: 120,
  acknowledged: 100,
  failed: { 502: 3 },
  failingSeconds: 1,
  unresolved: 0,
  faultSeconds: 2,
  recoverySeconds: 1.25,
  booksMatch: true,
  mismatched: [],
  audit: { ok: true, violations: [] },
  ...over,
});

t.test('the overload case is among the faults', async (t) => {
  const overload = FAULTS.find((f) => f.name === 'overload');
  t.ok(overload, 'npm run chaos and the chaos test run it');
  t.match(overload?.describe, /1,000 connections/);
});

t.test("a fault's figures in the last column, '-' for the others", async (t) => {
  const lines = markdownTable([
    report({}),
    report({ name: 'overload', failed: { 503: 40 }, faultFigures: { burst_sent: 50000, burst_refused: 31000, refused_in_ledger: 0 } }),
  ]).split('\n');
  t.equal(lines.length, 4);
  t.match(lines[0], /\| audit \| the fault \|$/);
  t.match(lines[2], /^\| api-kill \| 120 \| 100 \| 502: 3 \| 1 \| 0 \| 1\.3 \| yes \| passed \| - \|$/);
  t.match(lines[3], /^\| overload \| .* \| 503: 40 \| .* \| burst_sent: 50000, burst_refused: 31000, refused_in_ledger: 0 \|$/);
});

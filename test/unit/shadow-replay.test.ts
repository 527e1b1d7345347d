// The shadow replay of `npm run audit -- --rules` (scripts/operations/shadow-replay.ts)
// on an in-memory log: through the ledger's own rules it finds no difference,
// from the log's start or from a snapshot; through rules that deny large
// deposits it names each document they would write otherwise, the first of
// them the deposit itself; a partition no starting point reaches is reported
// unreplayed; a module without `decide` is refused.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import type { RawRecord } from '../../consumer/batch-decision.js';
import type { LogBounds, OffsetRange } from '../../consumer/log-range.js';
import { LEDGER_RULES } from '../../consumer/partition-rules.js';
import type { PartitionSnapshot } from '../../consumer/partition.js';
import { shadowReplay, type ShadowSources } from '../../scripts/operations/shadow-replay.js';
import { loadRules } from '../../scripts/operations/shadow-rules.js';
import { LARGEST_DEPOSIT } from '../fixtures/deny-large-deposits.js';
import { offsetOf, PARTITION, runLive, WINDOW_MS } from '../helpers/explained-log.js';

const run = runLive();
const recorded = run.db.match({});
const cut = new Map([[PARTITION, run.records.length]]);
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** The scenario's log (its first `first` records gone), the snapshots stored before `kept`, and the ledger's lookups. */
function sources(first = 0, kept: number[] = []): ShadowSources {
  return {
    bounds: async () => new Map<number, LogBounds>([[PARTITION, { first, end: run.records.length }]]),
    oldestSnapshotFrom: async (_partition, offset): Promise<PartitionSnapshot | undefined> => kept.filter((o) => o >= offset).map((o) => run.before[o]!)[0],
    read: async (ranges: readonly OffsetRange[], take: (partition: number, records: RawRecord[]) => Promise<void>) => {
      for (const { partition, from, to } of ranges) for (let at = from; at < to; at += 7) await take(partition, run.records.slice(at, Math.min(at + 7, to)));
    },
    lookUp: run.lookUp,
    idWindowMs: WINDOW_MS,
  };
}

t.test("through the ledger's own rules nothing differs", async (t) => {
  const report = await shadowReplay(cut, LEDGER_RULES, recorded, sources());
  t.same(report.differences, []);
  t.same(report.partitions, [{ partition: PARTITION, from: 0, to: run.records.length, start: 'log-start' }]);
  t.equal(report.records, run.records.length);
  t.equal(report.documents, recorded.length, 'every ledger document compared');

  const fromSnapshot = await shadowReplay(cut, LEDGER_RULES, recorded, sources(10, [5, 12, 30]));
  t.same(fromSnapshot.differences, [], 'from a snapshot, repeats of what came before it read back from the ledger');
  t.same(fromSnapshot.partitions, [{ partition: PARTITION, from: 12, to: run.records.length, start: 'snapshot' }], 'the oldest snapshot the log reaches back to');
  t.equal(fromSnapshot.records, run.records.length - 12);
  t.equal(fromSnapshot.documents, recorded.filter((d) => d.offset >= 12).length);
});

t.test('through rules that deny large deposits, every document they would write otherwise', async (t) => {
  const rules = await loadRules(fixture('deny-large-deposits.ts'));
  const report = await shadowReplay(cut, rules, recorded, sources());
  const [first] = report.differences;
  t.match(first, {
    id: 'd2',
    accountId: 'a',
    offset: offsetOf('deposit d2'),
    recorded: { type: 'deposit', status: 'applied', amount: 200, balanceAfter: 170 },
    shadow: { type: 'deposit', status: 'denied', reason: 'balance_out_of_range', amount: 200, balanceAfter: -30 },
  });
  t.ok(first!.fields.includes('status') && first!.fields.includes('balanceAfter'));
  const ids = new Set(report.differences.map((d) => d.id));
  t.ok(ids.has('m1'), `the other deposit above ${LARGEST_DEPOSIT} too`);
  t.notOk(ids.has('d1'), 'a deposit within the bound is decided alike');
  t.ok(report.differences.some((d) => d.id === 't1' && d.shadow?.status === 'denied'), 'and what follows from it: the transfer the money paid for is refused');
  t.ok(report.differences.every((d) => d.offset >= offsetOf('deposit d2')), 'nothing before the first deposit denied differs');
});

t.test('a partition whose log starts past every snapshot kept is not replayed', async (t) => {
  const report = await shadowReplay(cut, LEDGER_RULES, recorded, sources(10, [5]));
  t.same(report.partitions, [{ partition: PARTITION, to: run.records.length }]);
  t.equal(report.records, 0);
  t.same(report.differences, []);
});

t.test('a module that exports no decide is refused', async (t) => {
  await t.rejects(loadRules(fixture('no-rules.ts')), /exports no function decide/);
});

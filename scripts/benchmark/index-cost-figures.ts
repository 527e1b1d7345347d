// What the index-cost phase measures and reports: the index sets it inserts
// under, each as the consumers declare its indexes (consumer/mongo.ts), and
// each set's figures under a stable key in the JSON
// (phases['index-cost'].index_sets.<key>.docs_per_s, .ratio_to_id_only,
// .database_cpu_us_per_doc ...) and as a row of the markdown table.
import { LEDGER_INDEXES, type LedgerIndex } from '../../consumer/mongo.js';

export interface IndexSet {
  /** The set's key in the JSON. */
  key: string;
  /** The indexes besides `_id`, which every collection has. */
  indexes: readonly LedgerIndex[];
}

/** From `_id` alone to every index of the ledger; the first is what the others are compared with. */
export const INDEX_SETS: readonly IndexSet[] = [
  { key: 'id_only', indexes: [] },
  { key: 'statement', indexes: [LEDGER_INDEXES.statement] },
  { key: 'statement_id', indexes: [LEDGER_INDEXES.statement, LEDGER_INDEXES.id] },
  { key: 'statement_request', indexes: [LEDGER_INDEXES.statement, LEDGER_INDEXES.request] },
  { key: 'all', indexes: Object.values(LEDGER_INDEXES) },
];

export const BASELINE_SET = 'id_only';

export interface IndexSetFigures {
  /** Index names, `_id_` first, as the server lists them. */
  indexes: string[];
  /** Documents inserted (all that were asked for unless the set failed or ran out of time). */
  documents: number;
  seconds: number;
  docs_per_s: number | null;
  /** docs_per_s over the `_id`-only set's, in the same run. */
  ratio_to_id_only: number | null;
  /** The database process's CPU over the set's inserts; null when no process was found to read. */
  database_cpu_s: number | null;
  database_cpu_us_per_doc: number | null;
  error?: string;
}

/** The phase's own fields of its PhaseResult. */
export interface IndexCostFields {
  index_sets?: Record<string, IndexSetFigures>;
  /** Documents per insertMany: the consumer's ledger writer's largest insert. */
  batch_size?: number;
  /** The process whose CPU the figures read, as `<name> (pid <pid>)`, or why there is none. */
  database_process?: string;
}

export function indexNames(set: IndexSet): string[] {
  return ['_id_', ...set.indexes.map((index) => index.name)];
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** One set's figures from what was measured; `baseline` is the `_id`-only set's, absent for that set itself. */
export function indexSetFigures(
  set: IndexSet,
  measured: { documents: number; seconds: number; cpuSeconds: number | null; error?: string },
  baseline: IndexSetFigures | undefined,
): IndexSetFigures {
  const rate = measured.documents > 0 && measured.seconds > 0 ? measured.documents / measured.seconds : null;
  const baseRate = baseline ? baseline.docs_per_s : rate;
  const figures: IndexSetFigures = {
    indexes: indexNames(set),
    documents: measured.documents,
    seconds: round(measured.seconds, 2),
    docs_per_s: rate === null ? null : Math.round(rate),
    ratio_to_id_only: rate === null || !baseRate ? null : round(rate / baseRate, 3),
    database_cpu_s: measured.cpuSeconds === null ? null : round(measured.cpuSeconds, 2),
    database_cpu_us_per_doc: measured.cpuSeconds === null || measured.documents === 0 ? null : round((measured.cpuSeconds / measured.documents) * 1e6, 1),
  };
  if (measured.error !== undefined) figures.error = measured.error;
  return figures;
}

function fmt(n: number | null, digits = 0): string {
  if (n === null || !Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The markdown table of the sets' figures, in the order they ran; empty when none ran. */
export function indexCostTable(fields: IndexCostFields): string[] {
  const sets = Object.values(fields.index_sets ?? {});
  if (sets.length === 0) return [];
  const lines = [
    '| indexes | documents | docs/s | of `_id` only | database CPU us/doc |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const s of sets) {
    const name = `${s.indexes.join(' + ')}${s.error ? ` (failed: ${s.error})` : ''}`;
    const ratio = s.ratio_to_id_only === null ? '-' : `${fmt(s.ratio_to_id_only * 100, 1)}%`;
    lines.push(`| ${name} | ${fmt(s.documents)} | ${fmt(s.docs_per_s)} | ${ratio} | ${fmt(s.database_cpu_us_per_doc, 1)} |`);
  }
  return lines;
}

// The results as markdown: one row per phase with its figures, the drain's,
// the takeover's and the soak's own figures (the soak's memory in a table of
// its own), the index-cost phase's inserts per index set, and where the CPU
// went in each phase.
import type { BenchResult, PhaseResult } from './bench-result.js';
import { indexCostTable } from './index-cost-figures.js';
import { overloadTable } from './overload-figures.js';

const CPU_ORDER = ['api', 'consumer', 'webhooks', 'kafka', 'ferretdb', 'redis', 'nginx', 'loadgen', 'ceiling-api', 'ceiling-nginx', 'drain-consumer'];

function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  return n >= 100 ? fmt(n, 0) : fmt(n, 1);
}

/** Answers other than 200 and 201: 202 (accepted, decision not back in time), 402 (denied), failures. */
function statuses(p: PhaseResult): string {
  const entries = Object.entries(p.status ?? {}).filter(([code]) => code !== '200' && code !== '201');
  return entries.length === 0 ? '-' : entries.map(([code, n]) => `${code}: ${fmt(n)}`).join(', ');
}

function auditCell(p: PhaseResult): string {
  if (!p.audit) return '-';
  if (p.audit.error) return `not run: ${p.audit.error}`;
  if (p.audit.ok) return 'ok';
  const byCheck = new Map<string, number>();
  for (const c of p.audit.checks) byCheck.set(c.check, (byCheck.get(c.check) ?? 0) + 1);
  const names = [...byCheck].map(([check, n]) => (n > 1 ? `${check} x${n}` : check));
  return `${p.audit.violations} violations (${names.join(', ')})`;
}

function rate(p: PhaseResult): string {
  if (p.name === 'drain') return p.tps === undefined ? '-' : `${fmt(p.tps)} tx/s`;
  if (p.name === 'index-cost') return p.rps === null ? '-' : `${fmt(p.rps)} docs/s`;
  return fmt(p.rps);
}

export function phaseRow(p: PhaseResult): string {
  if (p.skipped) return `| ${p.name} | skipped: ${p.reason ?? ''} | | | | | | | | | | |`;
  const ratio = p.ratio === null ? '-' : `${fmt(p.ratio * 100, 1)}% of ${p.ratio_of ?? 'ceiling'}`;
  const name = p.error ? `${p.name} (failed: ${p.error})` : p.name;
  return `| ${name} | ${rate(p)} | ${ratio} | ${ms(p.p50_ms)} | ${ms(p.p90_ms)} | ${ms(p.p99_ms)} | ${ms(p.max_ms)} | ${fmt(p.errors)} | ${fmt(p.timeouts)} | ${statuses(p)} | ${fmt(p.peak_lag)} | ${auditCell(p)} |`;
}

const mb = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? '-' : fmt(bytes / 1e6, 1));
const perId = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? '-' : `${fmt(bytes, 1)} B`);

export function soakNotes(p: PhaseResult): string[] {
  const by = p.bytes_per_id;
  const trend = p.bytes_per_id_trend;
  const redis = p.memory?.redis_used_bytes;
  return [
    `- soak: **${fmt(p.ids)} ids** in the window at the end, ${fmt(p.ids_added)} added (${p.ids_source ?? '-'}); ` +
      `retained per id added: consumer **${perId(by?.consumer)}**, standby **${perId(by?.standby)}**; Redis **${perId(by?.redis)}** past the outcome horizon ` +
      `(all its memory over the ids in the window; ${perId(by?.redis_within_horizon)} added an id within it); slope over the run: ${perId(trend?.consumer)}, ${perId(trend?.standby)}, ${perId(trend?.redis)}; ` +
      `Redis used_memory ${mb(redis?.start)} -> ${mb(redis?.end)} MB, ${mb(redis?.past_horizon)} MB past the horizon; ` +
      `heaps at rest ${p.heap_after_full_gc ? 'read after two full garbage collections' : 'read as found (no --expose-gc: garbage not yet collected counts)'}.`,
    `- soak: the statement on a ledger of **${fmt(p.ledger_documents)} documents**${p.ledger_error ? ` (not counted: ${p.ledger_error})` : ''}, ` +
      `${fmt(p.statement_calls)} pages of 50 read after the load: p50 ${ms(p.statement_p50_ms)} ms, p99 **${ms(p.statement_p99_ms)} ms**, ${fmt(p.statement_errors)} errors.`,
    `- soak: accepted calls/s over the first ${fmt(p.rate_window_s)} s ${fmt(p.rate_start)}, over the last ${fmt(p.rate_end)}: **${fmt(p.rate_end_over_start, 3)}** of the start.`,
    ...(p.soak_notes ?? []).map((note) => `- soak: ${note}`),
  ];
}

/** Each component's memory at rest before and after the soak; a consumer's heap without its young generation in parentheses. */
export function soakMemoryTable(p: PhaseResult): string[] {
  const memory = p.memory;
  if (!memory) return [];
  const lines = ['| component | RSS MB before | RSS MB after | V8 heap MB before | V8 heap MB after | ids before | ids after |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  const heap = (used: number | null, retained: number | null) => `${mb(used)} (${mb(retained)})`;
  for (const [name, rss] of Object.entries(memory.rss_bytes)) {
    const c = memory.consumers[name];
    const cells = c
      ? [heap(c.heap_used_bytes.start, c.heap_retained_bytes.start), heap(c.heap_used_bytes.end, c.heap_retained_bytes.end), fmt(c.ids.start), fmt(c.ids.end)]
      : ['-', '-', '-', '-'];
    lines.push(`| ${name}${c ? ` (${c.role})` : ''} | ${mb(rss.start)} | ${mb(rss.end)} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** The overload phase in a line: its base rate, its failures, refusals that did not say when to retry, and whether any refused call reached the ledger. */
export function overloadNote(p: PhaseResult): string {
  const steps = p.steps ?? [];
  const failures = steps.reduce((n, s) => n + s.other, 0);
  const unsent = steps.reduce((n, s) => n + s.unsent, 0);
  const refused = steps.reduce((n, s) => n + s.refused, 0);
  const withoutRetryAfter = steps.reduce((n, s) => n + s.refused_without_retry_after, 0);
  const base = `${fmt(p.base_rps)} calls/s (${p.base_from === 'contract' ? "the contract phase's rate" : 'the --overload-base-rate option'})`;
  const retryAfter = refused === 0 ? '' : withoutRetryAfter === 0 ? ', every refusal with Retry-After' : `, **${fmt(withoutRetryAfter)} refusals without Retry-After**`;
  const lookedUp = p.refused_checked === undefined ? '' : `; of ${fmt(p.refused_checked)} refused calls looked up afterwards, **${fmt(p.refused_found)}** in the ledger`;
  return `- overload: steps of ${base}; ${failures === 0 ? 'no failed call' : `**${fmt(failures)} failed calls** (statuses other than accepted or refused, timeouts, broken connections)`}, ${fmt(unsent)} not sent for want of a free connection${retryAfter}${lookedUp}.`;
}

export function cpuTable(phases: PhaseResult[]): string[] {
  const ran = phases.filter((p) => !p.skipped && Object.keys(p.cpu_seconds).length > 0);
  if (ran.length === 0) return [];
  const present = (k: string) => ran.some((p) => p.cpu_seconds[k] !== undefined);
  const kinds = CPU_ORDER.filter(present);
  for (const p of ran) for (const k of Object.keys(p.cpu_seconds)) if (!kinds.includes(k) && k !== 'total') kinds.push(k);
  if (present('total')) kinds.push('total');
  const lines = [
    `| phase | wall s | ${kinds.join(' | ')} |`,
    `| --- | ---: | ${kinds.map(() => '---:').join(' | ')} |`,
  ];
  for (const p of ran) {
    const wall = p.cpu_wall_s ?? 0;
    const cells = kinds.map((k) => {
      const s = p.cpu_seconds[k];
      if (s === undefined) return '-';
      return wall > 0 ? `${fmt(s, 1)} (${fmt((s / wall) * 100)}%)` : fmt(s, 1);
    });
    lines.push(`| ${p.name} | ${fmt(wall, 1)} | ${cells.join(' | ')} |`);
  }
  return lines;
}

export function renderMarkdown(r: BenchResult): string {
  const phases = Object.values(r.phases);
  const out = [
    `# Teller benchmark, ${r.started_at}`,
    '',
    `\`${r.command}\` at ${r.git.commit.slice(0, 12)}${r.git.dirty ? ' (uncommitted changes)' : ''}; ` +
      `${r.machine.cores} cores (${r.machine.cpu_model}), ${fmt(r.machine.memory_gib, 1)} GiB, load average at start ${r.machine.load_avg_at_start.map((x) => x.toFixed(2)).join(' ')}; ` +
      `${r.config.apiReplicas} api replicas, ${r.config.consumers} consumers, ${r.config.partitions} partitions; ${r.options.connections} connections.`,
    '',
    '| phase | calls/s | ratio | p50 ms | p90 ms | p99 ms | max ms | errors | timeouts | other statuses | peak lag | audit |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
    ...phases.map(phaseRow),
    '',
  ];
  const notes: string[] = [];
  const drain = r.phases.drain;
  if (drain && !drain.skipped && drain.tps !== undefined) {
    notes.push(
      `- drain: ${fmt(drain.applied ?? drain.messages)} of ${fmt(drain.messages)} messages applied in ${fmt(drain.seconds, 1)} s from the consumers' start: **${fmt(drain.tps)} transactions/s** ` +
        `(${fmt(drain.tps_after_first_commit)}/s from the first commit, ${fmt(drain.first_commit_s, 1)} s after start); produced beforehand at ${fmt(drain.produce_rate)} msg/s` +
        `${drain.group_rejoins ? `; the consumers rejoined their group ${fmt(drain.group_rejoins)} times` : ''}.`,
    );
  }
  const takeover = r.phases.takeover;
  if (takeover && !takeover.skipped && takeover.killed) {
    const secs = takeover.seconds === undefined ? '-' : fmt(takeover.seconds, 2);
    notes.push(`- takeover: ${takeover.killed.name} (pid ${takeover.killed.pid}) SIGKILLed under load; every partition served again (decided 200s) after **${secs} s**.`);
  }
  const overload = r.phases.overload;
  if (overload && !overload.skipped && overload.steps) notes.push(overloadNote(overload));
  const soak = r.phases.soak;
  if (soak && !soak.skipped && soak.memory) notes.push(...soakNotes(soak));
  const ceilingAb = r.phases['ceiling-ab'];
  if (ceilingAb?.ab && 'rps' in ceilingAb.ab) {
    notes.push(
      `- no-keep-alive ceiling as ApacheBench measures it: ${fmt(ceilingAb.ab.rps)} calls/s, p99 ${ms(ceilingAb.ab.p99_ms)} ms ` +
        `(autocannon with a new connection per call: ${fmt(ceilingAb.rps)}/s; contract-ab's ratio is taken against the latter, the same client).`,
    );
  }
  for (const p of phases) if (p.skipped) notes.push(`- ${p.name} skipped: ${p.reason ?? ''}`);
  for (const p of phases) {
    if (p.stack_problems?.length) notes.push(`- ${p.name}: stack components restarted or down during the phase: ${p.stack_problems.join(', ')} (its figures are suspect)`);
  }
  if (notes.length > 0) out.push(...notes, '');
  const soakMemory = soak ? soakMemoryTable(soak) : [];
  if (soakMemory.length > 0) {
    out.push("Memory at rest before and after the soak (a consumer's V8 heap, and in parentheses the part outside the young generation, which bytes per id are taken from):", '', ...soakMemory, '');
  }
  const overloadRows = overload?.steps ? overloadTable(overload.steps) : [];
  if (overload && overloadRows.length > 0) out.push(`Overload steps (${overload.description}):`, '', ...overloadRows, '');
  const indexCost = r.phases['index-cost'];
  const indexCostRows = indexCost ? indexCostTable(indexCost) : [];
  if (indexCost && indexCostRows.length > 0) {
    out.push(
      `Inserts by index set (${indexCost.description}; the database's CPU read from ${indexCost.database_process ?? '-'}):`,
      '',
      ...indexCostRows,
      '',
    );
  }
  const cpu = cpuTable(phases);
  if (cpu.length > 0) out.push('CPU seconds per component during each measured window (% of one core):', '', ...cpu, '');
  return out.join('\n');
}

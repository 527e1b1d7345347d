// One chaos case: a bounded load through NGINX, a fault part-way through, the
// time until every partition decides again, then the client's books against
// the read model and the audit (invariants, acknowledged ids, the fault's own
// acknowledged calls among them, replay).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../common/config.js';
import { audit } from '../operations/audit.js';
import type { StackInfo } from '../stack/stack-file.js';
import type { Violation } from '../operations/audit-checks.js';
import type { Fault } from './faults.js';
import { ChaosLoad } from './chaos-load.js';
import { probeAccounts, timeUntilServed } from './recovery-probe.js';

export interface CaseOptions {
  stack: StackInfo;
  config: Config;
  partitions: number;
  durationMs: number;
  workers: number;
  accounts: number;
  outDir: string;
}

export interface CaseReport {
  name: string;
  describe: string;
  calls: number;
  acknowledged: number;
  failed: Record<string, number>;
  /** How many distinct seconds saw a failed attempt: how long clients felt the fault. */
  failingSeconds: number;
  unresolved: number;
  faultSeconds: number;
  recoverySeconds: number | null;
  booksMatch: boolean;
  mismatched: string[];
  audit: { ok: boolean; violations: Violation[] };
  /** What the fault told of itself (the overload case: its burst's calls, refused and accepted). */
  faultFigures?: Record<string, number>;
}

async function balance(baseUrl: string, accountId: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${baseUrl}/account/${accountId}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { balance?: number };
    return res.status === 200 ? body.balance : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until the read model shows every account as the books have it; returns the accounts that never did. */
async function compareBooks(baseUrl: string, books: Map<string, number>, accounts: string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let wrong = accounts;
  while (wrong.length > 0 && Date.now() < deadline) {
    const seen = await Promise.all(wrong.map((a) => balance(baseUrl, a)));
    wrong = wrong.filter((a, i) => seen[i] !== (books.get(a) ?? 0));
    if (wrong.length > 0) await new Promise((r) => setTimeout(r, 500));
  }
  return wrong;
}

export async function runCase(fault: Fault, o: CaseOptions): Promise<CaseReport> {
  const runId = `chaos-${fault.name}-${Date.now().toString(36)}`;
  const accounts = Array.from({ length: o.accounts }, (_, i) => `${runId}-a${i}`);
  const load = new ChaosLoad({ baseUrl: o.stack.url, accounts, workers: o.workers, durationMs: o.durationMs, retryForMs: 120_000, runId });
  const running = load.run();

  await new Promise((r) => setTimeout(r, o.durationMs / 4));
  const probes = probeAccounts(`${runId}-probe`, o.partitions);
  const faultAt = Date.now();
  const injected = fault.inject(o.stack, o.config);
  // Probing starts with the fault (every fault bites at once), so a stall's recovery is not hidden by its length.
  const recovered = timeUntilServed(o.stack.url, probes, faultAt, runId, 120_000).catch(() => null);
  const outcome = await injected;
  const faultSeconds = (Date.now() - faultAt) / 1000;
  const recoveryMs = await recovered;
  const { books, unresolved } = await running;

  const mismatched = await compareBooks(o.stack.url, books.balances, accounts, 60_000);
  const ackedFile = join(o.outDir, `${runId}.acked.jsonl`);
  writeFileSync(ackedFile, [...books.acknowledged, ...(outcome?.acknowledged ?? [])].map((a) => JSON.stringify(a)).join('\n'));
  const result = await audit(o.config, ackedFile);
  return {
    name: fault.name,
    describe: fault.describe,
    calls: books.calls,
    acknowledged: books.acknowledged.length,
    failed: Object.fromEntries(books.failures),
    failingSeconds: books.failingSeconds.size,
    unresolved: unresolved.length,
    faultSeconds,
    recoverySeconds: recoveryMs === null ? null : recoveryMs / 1000,
    booksMatch: mismatched.length === 0 && unresolved.length === 0,
    mismatched,
    audit: { ok: result.ok, violations: result.violations },
    ...(outcome ? { faultFigures: outcome.figures } : {}),
  };
}

export function markdownTable(reports: CaseReport[]): string {
  const rows = reports.map((r) => {
    const failed = Object.entries(r.failed)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    const figures = Object.entries(r.faultFigures ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    return `| ${r.name} | ${r.calls} | ${r.acknowledged} | ${failed || '-'} | ${r.failingSeconds} | ${r.unresolved} | ${r.recoverySeconds?.toFixed(1) ?? 'never'} | ${r.booksMatch ? 'yes' : `NO (${r.mismatched.length})`} | ${r.audit.ok ? 'passed' : `FAILED (${r.audit.violations.map((v) => v.check).join(', ')})`} | ${figures || '-'} |`;
  });
  return [
    '| case | calls | acknowledged | failed attempts (by status) | seconds with failures | unresolved | recovery (s) | books match | audit | the fault |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

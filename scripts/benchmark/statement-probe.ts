// The statement on a grown ledger: pages of 50 of accounts the flow used,
// read one after another through NGINX once the load has stopped, bounded in
// count and in time. Only answered pages (200) count towards the latency.
import { prng } from './contract-flow.js';
import { summarizeLatencies } from './statistics.js';

export const STATEMENT_PAGE = 50;

export interface StatementAnswer {
  /** 0 when no answer came (a transport error or the call's own timeout). */
  status: number;
  ms: number;
}

export interface StatementFigures {
  statement_p50_ms: number | null;
  statement_p99_ms: number | null;
  statement_calls: number;
  statement_errors: number;
}

export function statementFigures(answers: StatementAnswer[]): StatementFigures {
  const pages = answers.filter((a) => a.status === 200).map((a) => a.ms);
  const summary = summarizeLatencies(pages);
  return { statement_p50_ms: summary.p50_ms, statement_p99_ms: summary.p99_ms, statement_calls: answers.length, statement_errors: answers.length - pages.length };
}

/** `count` accounts out of `accounts`, picked by a seeded generator so two runs read the same ones. */
export function statementAccounts(account: (n: number) => string, accounts: number, count: number, seed = 11): string[] {
  const rand = prng(seed);
  return Array.from({ length: count }, () => account(Math.floor(rand() * accounts)));
}

export interface ProbeOptions {
  url: string;
  accounts: string[];
  /** The probe stops once this long has passed, whatever is left. */
  maxMs: number;
  /** No answer within this long is an error: past the statement's own limit and NGINX's read timeout, so their 503 or 504 comes first. */
  callTimeoutMs?: number;
  onProgress?: (done: number) => void;
}

export async function probeStatements(o: ProbeOptions): Promise<StatementAnswer[]> {
  const deadline = Date.now() + o.maxMs;
  const answers: StatementAnswer[] = [];
  for (const account of o.accounts) {
    if (Date.now() >= deadline) break;
    const started = performance.now();
    let status = 0;
    try {
      const res = await fetch(`${o.url}/v1/accounts/${encodeURIComponent(account)}/transactions?limit=${STATEMENT_PAGE}`, {
        signal: AbortSignal.timeout(o.callTimeoutMs ?? 20_000),
      });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      // no answer: counted as an error
    }
    answers.push({ status, ms: performance.now() - started });
    o.onProgress?.(answers.length);
  }
  return answers;
}

// The audit after a phase (scripts/operations/audit.ts's audit()), summarised for the
// results: ok or not, and the violations by check with a few ids each.
import type { Config } from '../../common/config.js';
import { audit } from '../operations/audit.js';
import type { AuditSummary } from './bench-result.js';

export async function auditAfter(config: Config, ackedFile?: string): Promise<AuditSummary> {
  const started = Date.now();
  try {
    const report = await audit(config, ackedFile);
    return {
      ok: report.ok,
      violations: report.violations.length,
      checks: report.violations.slice(0, 50).map((v) => ({ check: v.check, detail: v.detail, ids: v.ids.slice(0, 10) })),
      documents: report.documents,
      seconds: report.seconds,
    };
  } catch (err) {
    return { ok: false, violations: 0, checks: [], documents: 0, seconds: (Date.now() - started) / 1000, error: (err as Error).message };
  }
}

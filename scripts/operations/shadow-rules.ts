// The rules a shadow replay decides with (`npm run audit -- --rules <module>`,
// docs/explanations.md): a JavaScript module that exports `decide` with the
// signature of consumer/ledger.ts's, `decide(account, message, position,
// original?)` returning `{account, outcome, doc, rule}`. It may import the
// compiled rules (dist/consumer/ledger.js) and change only what it means to.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LedgerRules } from '../../consumer/partition-rules.js';

/** The rules module at `path` (relative to the working directory); throws, saying why, when it exports no `decide`. */
export async function loadRules(path: string): Promise<LedgerRules> {
  const module = (await import(pathToFileURL(resolve(path)).href)) as { decide?: unknown };
  const { decide } = module;
  if (typeof decide !== 'function') throw new Error(`${path} exports no function decide(account, message, position, original)`);
  return { decide: decide as LedgerRules['decide'] };
}

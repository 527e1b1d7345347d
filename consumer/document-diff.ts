// Whether a ledger document recomputed by a replay is the one the ledger
// holds: the audit compares the whole log so (scripts/operations/audit-checks.ts),
// an explanation compares the document it explains (docs/explanations.md),
// and a shadow replay reports the fields its rules decide otherwise.
import type { LedgerDoc } from '../common/types.js';

/**
 * The members a replay must give again exactly. Not compared: `decidedAt`,
 * which documents written before it was recorded lack, and the members copied
 * from the message as it came (`clientTimestamp`, which no rule reads, and
 * `expiresInSeconds`).
 */
export const COMPARED_FIELDS: readonly (keyof LedgerDoc)[] = [
  'id',
  'accountId',
  'type',
  'amount',
  'requestId',
  'status',
  'reason',
  'overdraft',
  'balanceAfter',
  'reservedAfter',
  'partition',
  'offset',
  'receivedAt',
  'counterparty',
  'transferId',
  'reference',
  'overdraftLimit',
  'accountStatus',
  'pending',
  'postedAmount',
  'remainder',
];

/** The members in which `replayed` differs from `recorded` (`metadata` compared whole); empty when it is the same document. */
export function documentDifferences(recorded: LedgerDoc, replayed: LedgerDoc): string[] {
  const fields: string[] = COMPARED_FIELDS.filter((k) => (recorded[k] ?? null) !== (replayed[k] ?? null));
  if (JSON.stringify(recorded.metadata ?? null) !== JSON.stringify(replayed.metadata ?? null)) fields.push('metadata');
  return fields;
}

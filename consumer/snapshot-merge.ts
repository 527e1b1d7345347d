// Laying a chain of snapshots together: a whole snapshot and the deltas saved
// after it (consumer/snapshots.ts names, reads and chains them) make the
// whole state at the newest delta's offset.
import type { Account } from './ledger.js';
import { restoreFilter, type IdFilter } from './id-filter.js';
import type { PartitionSnapshot } from './partition.js';

/**
 * A whole snapshot with the deltas laid over it so far. Its filter is live,
 * so a later delta is laid over it in place: a member standing by keeps one
 * per partition and lays each new delta over it as it is saved.
 */
export interface MergedSnapshot {
  partition: number;
  offset: number;
  clock: number;
  accounts: [string, Account][];
  filter: IdFilter;
  /** Deltas laid over the whole snapshot it started from. */
  deltas: number;
}

/** `idWindowMs` sizes the filter of a snapshot saved without one (format 2 and before, whose ids are listed). */
export function startMerge(whole: PartitionSnapshot, idWindowMs: number): MergedSnapshot {
  const { partition, offset, clock, accounts } = whole;
  return { partition, offset, clock, accounts, filter: restoreFilter(whole.filter, whole.ids, idWindowMs), deltas: 0 };
}

/**
 * Lays a later delta over `m`, in place: its ids go into the filter in the
 * order the live state added them, so the filter is the live one, but for
 * slices the live one dropped since, which a restore drops in turn (the chain
 * starts again from a whole snapshot every few saves). A delta carries every
 * account whole.
 */
export function layDelta(m: MergedSnapshot, delta: PartitionSnapshot): void {
  for (const [key, at] of delta.ids) m.filter.add(key, at);
  m.accounts = delta.accounts;
  m.offset = delta.offset;
  m.clock = delta.clock;
  m.deltas++;
}

export function mergedSnapshot(m: MergedSnapshot): PartitionSnapshot {
  const { partition, offset, clock, accounts } = m;
  return { partition, offset, clock, accounts, filter: m.filter.serialize().toString('base64'), ids: [] };
}

/** A whole snapshot and the deltas taken after it, oldest first, as one whole snapshot. */
export function mergeSnapshots(chain: PartitionSnapshot[], idWindowMs: number): PartitionSnapshot {
  const [whole, ...deltas] = chain;
  if (!whole) throw new Error('mergeSnapshots needs at least one snapshot');
  const m = startMerge(whole, idWindowMs);
  for (const d of deltas) layDelta(m, d);
  return mergedSnapshot(m);
}

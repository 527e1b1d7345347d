// Laying a chain of snapshots together: a whole snapshot, then each delta
// taken after it (consumer/partition.ts `takeSnapshot`), gives the whole
// state at the delta's offset. The snapshot store merges a chain this way
// when it loads one, and a member standing by keeps one merged per partition
// (consumer/snapshots.ts).
import { restoreFilter, type IdFilter } from './id-filter.js';
import type { Account } from './ledger.js';
import type { PartitionSnapshot } from './partition.js';

/**
 * A whole snapshot with the deltas laid over it so far. Its accounts are a
 * map and its filter is live, so a later delta is laid over it in place: a
 * member standing by keeps one per partition and lays each new delta over it
 * as it is saved.
 */
export interface MergedSnapshot {
  partition: number;
  offset: number;
  clock: number;
  clockSource?: 'log-append-time';
  accounts: Map<string, Account>;
  filter: IdFilter;
  /** Deltas laid over the whole snapshot it started from. */
  deltas: number;
}

/** `idWindowMs` sizes the filter of a snapshot saved without one (formats 1 to 3, whose ids are listed). */
export function startMerge(whole: PartitionSnapshot, idWindowMs: number): MergedSnapshot {
  const { partition, offset, clock, clockSource } = whole;
  const filter = restoreFilter(whole.filter, whole.ids, idWindowMs);
  const m: MergedSnapshot = { partition, offset, clock, accounts: new Map(whole.accounts), filter, deltas: 0 };
  if (clockSource !== undefined) m.clockSource = clockSource;
  return m;
}

/**
 * Lays a later delta over `m`, in place. Its ids go into the filter in the
 * order the live state added them, so the filter is the live one, but for
 * slices the live one dropped since, which a restore drops in turn (the chain
 * starts again from a whole snapshot every few saves). A delta that carries
 * only its changed accounts lays them over the merged ones: accounts are
 * never removed, an account changed keeps its place, and one new since comes
 * last, as in the live map. A delta saved before deltas carried only those
 * (format 2) carries every account whole.
 */
export function layDelta(m: MergedSnapshot, delta: PartitionSnapshot): void {
  for (const [key, at] of delta.ids) m.filter.add(key, at);
  if (delta.changedAccountsOnly) {
    for (const [accountId, account] of delta.accounts) m.accounts.set(accountId, account);
  } else {
    m.accounts = new Map(delta.accounts);
  }
  m.offset = delta.offset;
  m.clock = delta.clock;
  // The source is part of the state at the delta's offset, like the clock.
  if (delta.clockSource === undefined) delete m.clockSource;
  else m.clockSource = delta.clockSource;
  m.deltas++;
}

export function mergedSnapshot(m: MergedSnapshot): PartitionSnapshot {
  const { partition, offset, clock } = m;
  const s: PartitionSnapshot = { partition, offset, clock, accounts: [...m.accounts], filter: m.filter.serialize().toString('base64'), ids: [] };
  if (m.clockSource !== undefined) s.clockSource = m.clockSource;
  return s;
}

/** A whole snapshot and the deltas taken after it, oldest first, as one whole snapshot. */
export function mergeSnapshots(chain: PartitionSnapshot[], idWindowMs: number): PartitionSnapshot {
  const [whole, ...deltas] = chain;
  if (!whole) throw new Error('mergeSnapshots needs at least one snapshot');
  const m = startMerge(whole, idWindowMs);
  for (const d of deltas) layDelta(m, d);
  return mergedSnapshot(m);
}

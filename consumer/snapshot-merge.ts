// Laying a chain of snapshots together: a whole snapshot, then each delta
// taken after it (consumer/partition.ts `takeSnapshot`), gives the whole
// state at the delta's offset. The snapshot store merges a chain this way
// when it loads one, and a member standing by keeps one merged per partition
// (consumer/snapshots.ts).
import { rememberedAt, type Remembered } from '../common/remembered.js';
import type { Account } from './ledger.js';
import type { PartitionSnapshot } from './partition.js';

/**
 * A whole snapshot with the deltas laid over it so far. Its accounts and seen
 * ids are maps, so a later delta is laid over it in place: a member standing
 * by keeps one per partition and lays each new delta over it as it is saved.
 */
export interface MergedSnapshot {
  partition: number;
  offset: number;
  clock: number;
  clockSource?: 'log-append-time';
  accounts: Map<string, Account>;
  seen: Map<string, Remembered>;
  /** Deltas laid over the whole snapshot it started from. */
  deltas: number;
}

export function startMerge(whole: PartitionSnapshot): MergedSnapshot {
  const { partition, offset, clock, clockSource } = whole;
  const m: MergedSnapshot = { partition, offset, clock, accounts: new Map(whole.accounts), seen: new Map(), deltas: 0 };
  if (clockSource !== undefined) m.clockSource = clockSource;
  laySeen(m.seen, whole.seen);
  return m;
}

/**
 * Lays a later delta over `m`, in place. Seen entries keep their first-seen
 * order (a changed entry keeps its place), so the log-time order `forget`
 * relies on holds. A delta that carries only its changed accounts lays them
 * over the merged ones: accounts are never removed, an account changed keeps
 * its place, and one new since comes last, as in the live map. A delta saved
 * before deltas carried only those (format 2) carries every account whole.
 */
export function layDelta(m: MergedSnapshot, delta: PartitionSnapshot): void {
  laySeen(m.seen, delta.seen);
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
  const s: PartitionSnapshot = { partition: m.partition, offset: m.offset, clock: m.clock, accounts: [...m.accounts], seen: [...m.seen] };
  if (m.clockSource !== undefined) s.clockSource = m.clockSource;
  return s;
}

/** A whole snapshot and the deltas taken after it, oldest first, as one whole snapshot. */
export function mergeSnapshots(chain: PartitionSnapshot[]): PartitionSnapshot {
  const [whole, ...deltas] = chain;
  if (!whole) throw new Error('mergeSnapshots needs at least one snapshot');
  const m = startMerge(whole);
  for (const d of deltas) layDelta(m, d);
  return mergedSnapshot(m);
}

/** Lays remembered ids over `seen`, in place (also how a restored state builds its map). */
export function laySeen(seen: Map<string, Remembered>, entries: [string, Remembered][]): void {
  for (const [key, r] of entries) {
    // An id forgotten and seen again later is a new entry: it goes to the end, as in the live map.
    const known = seen.get(key);
    if (known !== undefined && rememberedAt(known) !== rememberedAt(r)) seen.delete(key);
    seen.set(key, r);
  }
}

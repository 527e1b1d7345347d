// The one cut the audit compares at. On a large ledger the documents take long
// to read while ticks and traffic go on, and Redis is read after them, so "the
// newest state" is not one moment: a hold lapsing by a tick between the two
// reads shows in Redis and not in what was read of the ledger. The cut is each
// partition's committed offset, taken once before anything is read. An owner
// commits an offset only once the ledger documents of every message before it
// are inserted, and it writes their read model before it inserts them; so
// below the cut the ledger is complete and no longer moves, and the read model
// holds every change unless a write of it failed, which is what
// `checkReadModel` is there to see. Every check compares at the cut and
// leaves what came after it to the next audit; the shadow replay of
// `--rules` (scripts/operations/shadow-audit.ts) replays up to it too.
import type { Admin } from 'kafkajs';
import type { Config } from '../../common/config.js';
import type { LedgerDoc } from '../../common/types.js';
import { sortByLog, type Violation } from './audit-checks.js';
import { minorUnits } from './audit-holds.js';

/** Per partition, the first offset past the cut: every message before it is decided, written and committed. */
export type Cut = ReadonlyMap<number, number>;

/** An account's state in the ledger as of the cut. */
export interface LedgerState {
  balance: bigint;
  reserved: bigint;
  partition: number;
  /** Offset of the account's last document before the cut: the read model must have been written at least this far. */
  offset: number;
}

/** An account's hash in Redis: its state as of `offset`, the offset of the last change written to it. */
export interface ReadModelState {
  balance: bigint;
  reserved: bigint;
  /** Absent only in a hash written without one. */
  offset: number | undefined;
}

/**
 * Waits until the consumers have committed everything that was on the topic, then takes the cut:
 * each partition's committed offset. Ticks keep coming meanwhile, so the topic is never still;
 * the cut is what is fixed.
 */
export async function takeCut(admin: Admin, config: Config, timeoutMs: number): Promise<Cut> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const high = await admin.fetchTopicOffsets(config.topic);
    const committed = await admin.fetchOffsets({ groupId: config.groupId, topics: [config.topic] });
    const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]) ?? []);
    const behind = high.filter((h) => (done.get(h.partition) ?? 0) < Number(h.high));
    if (behind.length === 0) return new Map(high.map((h) => [h.partition, done.get(h.partition) ?? 0]));
    if (Date.now() > deadline) throw new Error(`consumers still behind on partitions ${behind.map((b) => b.partition).join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The documents of messages before the cut. A partition the cut does not know is kept whole, so nothing of it goes unchecked. */
export function beforeCut(docs: LedgerDoc[], cut: Cut): LedgerDoc[] {
  return docs.filter((d) => d.offset < (cut.get(d.partition) ?? Infinity));
}

/**
 * Each account's newest state in `docs` (give it the documents before the cut). An account comes
 * into being with its first change: a decision that leaves an unknown account empty (a denied
 * request, a cancel that finds nothing) is in the ledger, but the account is not in the read
 * model, so it is not listed here either.
 */
export function newestStates(docs: LedgerDoc[]): Map<string, LedgerState> {
  const states = new Map<string, LedgerState>();
  for (const d of sortByLog(docs)) {
    if (!states.has(d.accountId) && d.balanceAfter === 0 && d.reservedAfter === 0) continue;
    states.set(d.accountId, { balance: minorUnits(d.balanceAfter), reserved: minorUnits(d.reservedAfter), partition: d.partition, offset: d.offset });
  }
  return states;
}

/** Whether Redis holds a change made after the cut: its state is later than the ledger's at the cut, and is not compared. */
function changedAfterCut(state: ReadModelState, partition: number, cut: Cut): boolean {
  return state.offset !== undefined && state.offset >= (cut.get(partition) ?? Infinity);
}

/** The accounts whose read model moved past the cut before it was read: not compared (counted in the report). */
export function accountsChangedAfterCut(ledgerStates: Map<string, LedgerState>, readModel: Map<string, ReadModelState | undefined>, cut: Cut): string[] {
  const changed: string[] = [];
  for (const [accountId, s] of ledgerStates) {
    const r = readModel.get(accountId);
    if (r && changedAfterCut(r, s.partition, cut)) changed.push(accountId);
  }
  return changed;
}

/**
 * The read model must hold each account's state at the cut, unless it has moved past it. A hash
 * still below the cut must equal the ledger's state there, and must have been written at least as
 * far as the account's last document before the cut: a read model that missed a change is
 * behind, even where the balance it shows happens to be the same.
 */
export function checkReadModel(ledgerStates: Map<string, LedgerState>, readModel: Map<string, ReadModelState | undefined>, cut: Cut): Violation[] {
  const wrong: string[] = [];
  const behind: string[] = [];
  for (const [accountId, s] of ledgerStates) {
    const r = readModel.get(accountId);
    if (r && changedAfterCut(r, s.partition, cut)) continue;
    if (!r || r.balance !== s.balance || r.reserved !== s.reserved) wrong.push(accountId);
    else if (r.offset !== undefined && r.offset < s.offset) behind.push(accountId);
  }
  const out: Violation[] = [];
  if (wrong.length) out.push({ check: 'read-model-equals-ledger', detail: `${wrong.length} accounts differ between Redis and the ledger at the cut`, ids: wrong });
  if (behind.length) {
    out.push({ check: 'read-model-not-behind', detail: `${behind.length} accounts in Redis were last written before their last change in the ledger`, ids: behind });
  }
  return out;
}

/**
 * An account's hash from the values of its fields balance, reserved and offset. Undefined when it
 * has none, or when its balance or reserved is not written as an integer (JavaScript writes a
 * number of 10^21 or more as `1e+21`): either way no ledger state equals it.
 */
export function readModelState(values: readonly (string | null | undefined)[]): ReadModelState | undefined {
  const [balance, stored, offset] = values;
  const reserved = stored ?? '0';
  if (!isExactInteger(balance) || !isExactInteger(reserved)) return undefined;
  return { balance: BigInt(balance), reserved: BigInt(reserved), offset: offset === null || offset === undefined ? undefined : Number(offset) };
}

function isExactInteger(text: string | null | undefined): text is string {
  return typeof text === 'string' && /^-?\d+$/.test(text);
}

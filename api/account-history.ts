// An account as it stood at a point of its past, read from the ledger
// (MongoDB `transactions`), never from Redis: right after the last document of
// the account at or before that point. The point is a time (`asOf`, by the
// log clock) or a cut (each partition's committed offset, api/cuts.ts).
//
// Each document records the balance and reserved amount after it
// (`balanceAfter`, `reservedAfter`), so the last one answers both. An account
// lives in one partition, whose log clock never goes back, so its documents
// decided at or before a time are exactly those up to some offset: the newest
// by offset among them is the last one. It is found through the statement
// index (api/ledger-filters.ts): MongoDB walks the account's entries from the
// newest back to the first one decided by then; FerretDB reads the account's
// entries and sorts them. Documents written before `decidedAt` was recorded
// are read by their `receivedAt` (exact for a lapse, which recorded the log
// clock there; for a decision, the api's receipt of the call, a few
// milliseconds earlier and by another clock).
//
// Holds that lapse at one offset write their documents at the offset of the
// record that moved the clock, before that record's own decision, so the last
// of an offset is its decision, else its lapse with the highest ordinal.
//
// The settings (overdraft limit, status) are in the applied `account_settings`
// documents that named them, at or before the last document: read walking the
// account's settings changes back from there, newest first.
import type { Filter } from 'mongodb';
import type { AccountStatus, LedgerDoc } from '../common/types.js';
import { decidedWithin } from './ledger-filters.js';
import type { LedgerFind, LedgerReads } from './ledger-reads.js';

/** Where a read of the past stops: at a time, or below a cut's offset in the account's partition. */
export type HistoryPoint = { decidedBy: number } | { partition: number; before: number };

/** The account right after its last document at the point; the defaults, when it had none by then. */
export interface PastAccount {
  balance: number;
  reserved: number;
  overdraftLimit: number;
  status: AccountStatus;
  /** The document the state is read from; absent when the account had none by then. */
  last?: LedgerDoc;
}

const NO_HISTORY: PastAccount = Object.freeze({ balance: 0, reserved: 0, overdraftLimit: 0, status: 'open' });

/** Settings changes read at a time while walking back for the settings. */
const SETTINGS_PAGE = 100;

/** The account's documents at or before `point`. */
export function pointQuery(accountId: string, point: HistoryPoint): Filter<LedgerDoc> {
  if ('decidedBy' in point) return { accountId, ...decidedWithin({ $lte: point.decidedBy }) };
  return { accountId, partition: point.partition, offset: { $lt: point.before } };
}

/** The documents of `bounded` at the offset of `doc`: a lapse's whole offset, which its decision and other lapses share. */
export function offsetQuery(bounded: Filter<LedgerDoc>, doc: Pick<LedgerDoc, 'partition' | 'offset'>): Filter<LedgerDoc> {
  return { ...bounded, partition: doc.partition, offset: doc.offset };
}

/** The account's applied settings changes in `partition` below `offset`. */
export function settingsQuery(accountId: string, partition: number, offset: number): Filter<LedgerDoc> {
  return { accountId, partition, type: 'account_settings', status: 'applied', offset: { $lt: offset } };
}

/** The ordinal of a lapse among those of its offset, from its `_id` (`<partition>:<offset>:<n>:<hold>~expired`). */
export function lapseOrdinal(doc: Pick<LedgerDoc, '_id'>): number {
  return Number(doc._id.split(':')[2] ?? -1);
}

/** The last applied of documents that share one offset: the decision, else the lapse with the highest ordinal. */
export function lastOfOffset(docs: readonly LedgerDoc[]): LedgerDoc | undefined {
  const decision = docs.find((d) => d.type !== 'expire');
  if (decision) return decision;
  let last: LedgerDoc | undefined;
  for (const d of docs) if (!last || lapseOrdinal(d) > lapseOrdinal(last)) last = d;
  return last;
}

/** The settings the applied changes give, newest first: for each setting, the newest change that named it. */
export function settingsOf(changes: readonly LedgerDoc[]): Pick<PastAccount, 'overdraftLimit' | 'status'> & { complete: boolean } {
  let overdraftLimit: number | undefined;
  let status: AccountStatus | undefined;
  for (const change of changes) {
    overdraftLimit ??= change.overdraftLimit;
    status ??= change.accountStatus;
  }
  return { overdraftLimit: overdraftLimit ?? 0, status: status ?? 'open', complete: overdraftLimit !== undefined && status !== undefined };
}

export class AccountHistory {
  constructor(private readonly reads: Pick<LedgerReads, 'run'>) {}

  /**
   * `accountId` right after its last document at or before `point`, and the
   * defaults when it had none by then. At a cut this never changes: nothing
   * below a cut can be written later, not even an account's first document.
   */
  async at(accountId: string, point: HistoryPoint): Promise<PastAccount> {
    return this.reads.run((find) => pastAccount(find, accountId, point));
  }

  /**
   * `accountId` right after its last document decided at or before `time`;
   * null when the ledger holds no document of the account at all, before or
   * after (an account never seen, or a mistyped one, is a 404 as it is now).
   */
  async asOf(accountId: string, time: number): Promise<PastAccount | null> {
    return this.reads.run(async (find) => {
      const past = await pastAccount(find, accountId, { decidedBy: time });
      if (past.last === undefined && (await find({ accountId }, 1)).length === 0) return null;
      return past;
    });
  }
}

async function pastAccount(find: LedgerFind, accountId: string, point: HistoryPoint): Promise<PastAccount> {
  const bounded = pointQuery(accountId, point);
  const [newest] = await find(bounded, 1);
  if (!newest) return NO_HISTORY;
  // Lapses share their offset with other lapses and the decision after them: read the whole offset.
  const last = newest.type === 'expire' ? lastOfOffset(await find(offsetQuery(bounded, newest), 0))! : newest;
  const settings = await settingsUpTo(find, last);
  return { balance: last.balanceAfter, reserved: last.reservedAfter, overdraftLimit: settings.overdraftLimit, status: settings.status, last };
}

/** The settings in force after `last`: its account's applied settings changes at or before it, read newest first until both settings are found. */
async function settingsUpTo(find: LedgerFind, last: LedgerDoc): Promise<Pick<PastAccount, 'overdraftLimit' | 'status'>> {
  const changes: LedgerDoc[] = [];
  let below = last.offset + 1;
  for (;;) {
    const page = await find(settingsQuery(last.accountId, last.partition, below), SETTINGS_PAGE);
    changes.push(...page);
    const settings = settingsOf(changes);
    // One decision document per offset: the next page starts strictly below this one's last.
    if (settings.complete || page.length < SETTINGS_PAGE) return settings;
    below = page.at(-1)!.offset;
  }
}

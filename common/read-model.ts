// The read model's contract: what the partition owners write into Redis
// (consumer/read-model-writer.ts) and what the api replicas read back
// (api/readmodel.ts, api/waiter.ts). Keys and channels, the account hash, an
// id's stored outcome and the announcement of outcomes are laid out here and
// nowhere else; the writer keeps only its Lua script and its I/O.
import { unknownFormat } from './format-version.js';
import { recall, remember } from './remembered.js';
import { ACCOUNT_STATUSES, type AccountStatus, type AccountView, type Outcome } from './types.js';

/**
 * The version this code writes. Version 1 is what was written before the read
 * model had a version (8ee80b0 to a59883d), and it carries no mark; version 2
 * marks every stored outcome (see `encodeStoredOutcome`); version 3 appends
 * the request's time to live to the packed outcome (common/remembered.ts),
 * which the api compares a poller's body with. Account hashes are the same
 * in all three; announcements carry no version (`announcementMessages`).
 *
 * Account settings (docs/transfers.md) add two fields to the account hash
 * without a new version: each is written only when it is not its default and
 * deleted when it returns to it, so a hash written before them reads as an
 * account with the defaults, which it is, and a reader from before them asks
 * for the fields it knows and never sees the new ones.
 */
export const READ_MODEL_VERSION = 3;
/** Versions 2 and 3 differ only by the appended field, which `recall` reads when it is there. */
const PACKED_VERSIONS = ['2', String(READ_MODEL_VERSION)];
const READABLE_VERSIONS = [1, 2, READ_MODEL_VERSION];

export const keys = {
  /** Hash of the `ACCOUNT_FIELDS`. */
  account: (accountId: string) => `teller:acct:${accountId}`,
  /** An id's outcome as `encodeStoredOutcome` writes it, kept for OUTCOME_TTL_SECONDS (the ledger answers after). */
  outcome: (accountId: string, id: string) => `teller:out:${accountId}/${id}`,
  /** Registry of client ids: id -> accountId, kept for OUTCOME_TTL_SECONDS, so an id reused on another account within it is refused. */
  txId: (id: string) => `teller:txid:${id}`,
  /** Present while Redis holds the whole read model of a partition (gone after Redis restarts empty). */
  ready: (partition: number) => `teller:ready:${partition}`,
  /**
   * The partition's written marker: the offset through which Redis holds every
   * account change and outcome of the partition. An owner raises it with each
   * batch it writes while it knows Redis whole, never lowers it, and reads it
   * back: a value below what the owner raised it to means Redis lost writes it
   * acknowledged (an external Redis restarted from an older persistence file).
   */
  written: (partition: number) => `teller:written:${partition}`,
  /** Pub/sub channel of one api replica, where owners announce outcomes it waits for. */
  replyChannel: (replicaId: string) => `teller:reply:${replicaId}`,
};

/**
 * The account hash. `offset` is that of the message that last changed the
 * account: the writer's guard, so a stale owner or a replay cannot overwrite
 * newer state. Readers do not need it. `overdraftLimit` and `status` are
 * present only when they are not their defaults (0, `open`).
 */
export const ACCOUNT_FIELDS = { balance: 'b', reserved: 'r', updatedAt: 'u', offset: 'o', overdraftLimit: 'l', status: 's' } as const;

/** The fields a reader asks for, in the order `decodeAccount` takes their values. */
export const ACCOUNT_VIEW_FIELDS = [
  ACCOUNT_FIELDS.balance,
  ACCOUNT_FIELDS.reserved,
  ACCOUNT_FIELDS.updatedAt,
  ACCOUNT_FIELDS.overdraftLimit,
  ACCOUNT_FIELDS.status,
] as const;

/** An account's state to write, with the offset of the message that last changed it. */
export interface AccountWrite {
  accountId: string;
  /** The settings are absent at their defaults, as the ledger's account has them. */
  account: Pick<AccountView, 'balance' | 'reserved' | 'updatedAt' | 'overdraftLimit' | 'status'>;
  offset: number;
}

/**
 * The values of an account's hash, in the order balance, reserved,
 * updatedAt, offset, overdraftLimit, status; a setting at its default is
 * `''`, which the writer deletes rather than writes.
 */
export function encodeAccount({ account, offset }: AccountWrite): [number, number, number, number, number | '', AccountStatus | ''] {
  const overdraftLimit = account.overdraftLimit === undefined || account.overdraftLimit === 0 ? '' : account.overdraftLimit;
  const status = account.status === undefined || account.status === 'open' ? '' : account.status;
  return [account.balance, account.reserved, account.updatedAt, offset, overdraftLimit, status];
}

/** The account from the values of `ACCOUNT_VIEW_FIELDS`; null for an account never written. Absent settings are their defaults, left out. */
export function decodeAccount(accountId: string, values: readonly (string | null | undefined)[]): AccountView | null {
  const [balance, reserved, updatedAt, overdraftLimit, status] = values;
  if (balance === null || balance === undefined) return null;
  const view: AccountView = { accountId, balance: Number(balance), reserved: Number(reserved ?? 0), updatedAt: Number(updatedAt ?? 0) };
  if (overdraftLimit) view.overdraftLimit = Number(overdraftLimit);
  if (status) view.status = accountStatusOf(accountId, status);
  return view;
}

/** A stored status this code knows; another was written by a newer Teller and is refused rather than guessed. */
function accountStatusOf(accountId: string, stored: string): AccountStatus {
  if ((ACCOUNT_STATUSES as readonly string[]).includes(stored)) return stored as AccountStatus;
  throw unknownFormat(`the status of account ${accountId}`, stored, READABLE_VERSIONS);
}

/**
 * An id's outcome as Redis stores it: the packed form a partition holds
 * (common/remembered.ts) after its version, `v3|`. The mark is on each value
 * rather than on the partition's readiness marker, because the marker says
 * nothing of how a given value was written: it is set once, when an owner
 * writes a partition back after Redis restarted empty, and stays through
 * later owners and deployments, while outcomes are written by whichever
 * owner decides them and live for OUTCOME_TTL_SECONDS. The mark costs three
 * bytes a value.
 */
export function encodeStoredOutcome(outcome: Outcome): string {
  return `v${READ_MODEL_VERSION}|${remember(outcome)}`;
}

/**
 * Reads a stored outcome by its version. An unmarked value is version 1,
 * which was JSON from 8ee80b0 and the packed form from 49b582c: nothing but
 * its first character tells them apart (JSON opens with `{`, a packed one
 * with the digits of its decidedAt). Marks start with `v`, which neither does.
 */
export function decodeStoredOutcome(accountId: string, id: string, raw: string): Outcome {
  if (!raw.startsWith('v')) return raw.startsWith('{') ? (JSON.parse(raw) as Outcome) : recall(accountId, id, raw);
  const end = raw.indexOf('|');
  const version = end < 0 ? raw.slice(1) : raw.slice(1, end);
  if (!PACKED_VERSIONS.includes(version)) throw unknownFormat(`the stored outcome of ${accountId}/${id}`, version, READABLE_VERSIONS);
  return recall(accountId, id, raw.slice(end + 1));
}

/** An outcome, the api replica waiting for it (none when nobody waits) and the waiting call's token. */
export interface Announcement {
  outcome: Outcome;
  replyTo: string | undefined;
  callId: string | undefined;
}

/** One outcome of an announcement, and the token of the call it answers (absent from older owners). */
export interface AnnouncedOutcome {
  outcome: Outcome;
  callId?: string;
}

/**
 * What to publish: for each replica with callers waiting, on its channel, the
 * JSON array of their outcomes, each with its call's `callId` as one more
 * member when the message carried one. Announcements carry no version: they
 * are never stored, and an outcome object with one member more still reads as
 * the outcome it was (c3a0fb1), so a waiter that predates tokens keeps
 * matching by account and id.
 */
export function announcementMessages(announced: readonly Announcement[]): [channel: string, payload: string][] {
  const byReplica = new Map<string, object[]>();
  for (const { outcome, replyTo, callId } of announced) {
    if (replyTo === undefined) continue;
    const entry = callId === undefined ? outcome : { ...outcome, callId };
    const entries = byReplica.get(replyTo);
    if (entries) entries.push(entry);
    else byReplica.set(replyTo, [entry]);
  }
  return [...byReplica].map(([replica, entries]) => [keys.replyChannel(replica), JSON.stringify(entries)]);
}

/**
 * The outcomes of one announcement, each with its call's token when it has
 * one; throws on a payload that is not a JSON array.
 */
export function decodeAnnouncement(payload: string): AnnouncedOutcome[] {
  const entries: unknown = JSON.parse(payload);
  if (!Array.isArray(entries)) throw new TypeError(`an announcement is a JSON array of outcomes, not ${payload.slice(0, 80)}`);
  return (entries as (Outcome & { callId?: string })[]).map(({ callId, ...outcome }) =>
    callId === undefined ? { outcome } : { outcome, callId },
  );
}

// An account's statement, read from the ledger (MongoDB `transactions`), the
// system of record: newest first, in pages. The cursor is the ledger offset
// of the last entry of a page, and the next page is what lies strictly before
// it. An account lives in one partition, whose offsets only grow, so a write
// that lands while a client pages lands above its cursor and cannot shift or
// repeat an entry: pagination is stable under concurrent writes.
//
// Entries share an offset when a message lapsed holds before its own decision
// (the `expire` documents carry the offset of the message that advanced the
// clock), so a page never ends inside an offset: it takes the whole group.
//
// On MongoDB the {accountId: 1, offset: -1} index serves this; FerretDB scans
// the collection in Go (docs/embedded-database.md; about 10k documents a second here),
// which is accepted for statements. So a replica runs one statement at a
// time, the others wait their turn (api/turns.ts): a burst of statements
// cannot take every core from the ledger's inserts. The wait is bounded twice:
// past `queueLimit` waiting calls a new one gets 503 at once, and a call's
// whole budget, waiting and reading, is `deadlineMs`, below NGINX's
// proxy_read_timeout (15 s), so a slow statement is our 503, not its 504.
import type { Collection } from 'mongodb';
import { createError, TELLER_ERR_INVALID_CURSOR, TELLER_ERR_LEDGER_UNAVAILABLE, TELLER_ERR_STATEMENTS_BUSY } from '../common/errors.js';
import type { LedgerDoc } from '../common/types.js';
import { Turns, type TurnLimits } from './turns.js';

export interface StatementPage {
  entries: LedgerDoc[];
  /** The cursor of the next page, when there is one. */
  next?: string;
}

const CURSOR = /^o(\d{1,16})$/;

/** Opaque to clients: base64url of `o<offset>`. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o${offset}`).toString('base64url');
}

/** The offset in a cursor; TELLER_ERR_INVALID_CURSOR when the cursor is not one of ours. */
export function decodeCursor(cursor: string): number {
  const m = /^[A-Za-z0-9_-]{1,32}$/.test(cursor) ? CURSOR.exec(Buffer.from(cursor, 'base64url').toString('latin1')) : null;
  const offset = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(offset)) throw createError(TELLER_ERR_INVALID_CURSOR);
  return offset;
}

/** Within one offset the decision is the newest entry, the lapses it triggered come just before it. */
function newestFirst(a: LedgerDoc, b: LedgerDoc): number {
  if (a.offset !== b.offset) return b.offset - a.offset;
  const ea = a.type === 'expire' ? 1 : 0;
  const eb = b.type === 'expire' ? 1 : 0;
  if (ea !== eb) return ea - eb;
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
}

/** What a statement may be narrowed to. */
export interface StatementFilter {
  reference?: string;
}

/** Past `queueLimit` waiting calls, or `deadlineMs` still waiting, a call gets 503 `statements-busy` (api/turns.ts). */
export type StatementLimits = TurnLimits;

export const DEFAULT_STATEMENT_LIMITS: StatementLimits = { queueLimit: 8, deadlineMs: 10_000 };

/** What the statement reader uses of the ledger collection: the real one, or an in-memory one in tests. */
export type LedgerCollection = Pick<Collection<LedgerDoc>, 'find'>;

export class Statements {
  private readonly turns: Turns;

  constructor(
    private readonly ledger: LedgerCollection,
    private readonly limits: StatementLimits = DEFAULT_STATEMENT_LIMITS,
  ) {
    this.turns = new Turns(limits.queueLimit, () => createError(TELLER_ERR_STATEMENTS_BUSY));
  }

  /** `filter`: only the entries whose write carried this `reference`. */
  async page(accountId: string, limit: number, before?: number, filter: StatementFilter = {}): Promise<StatementPage> {
    const deadline = Date.now() + this.limits.deadlineMs;
    return this.turns.run(deadline, async () => {
      try {
        return await this.read({ accountId, ...filter }, limit, before, deadline);
      } catch {
        throw createError(TELLER_ERR_LEDGER_UNAVAILABLE);
      }
    });
  }

  /**
   * `entries`: the account, and the reference when the call names one: both
   * equalities, which the embedded server narrows the read by (the account
   * through the statement index, the reference on the account's rows).
   */
  private async read(entries: { accountId: string } & StatementFilter, limit: number, before: number | undefined, deadline: number): Promise<StatementPage> {
    const find = (filter: object, count: number) => this.find(filter, count, deadline);
    const filter = before === undefined ? entries : { ...entries, offset: { $lt: before } };
    const docs = await find(filter, limit + 1);
    if (docs.length <= limit) return { entries: docs };
    const last = docs[limit - 1]!.offset;
    let page = docs.slice(0, limit);
    let more = true;
    if (docs[limit]!.offset === last) {
      // The page would end inside an offset: take the whole group, then see whether anything is older.
      const group = await find({ ...entries, offset: last }, 0);
      page = [...page.filter((d) => d.offset !== last), ...group].sort(newestFirst);
      more = (await find({ ...entries, offset: { $lt: last } }, 1)).length > 0;
    }
    return more ? { entries: page, next: encodeCursor(last) } : { entries: page };
  }

  /** One query, given what is left of the call's budget (a maxTimeMS of 0 would mean no limit at all). */
  private async find(filter: object, limit: number, deadline: number): Promise<LedgerDoc[]> {
    const maxTimeMS = deadline - Date.now();
    if (maxTimeMS <= 0) throw new Error('the statement ran out of time');
    const docs = await this.ledger.find(filter, { sort: { offset: -1 }, limit, maxTimeMS, projection: { partition: 0 } }).toArray();
    return docs.sort(newestFirst);
  }
}

// The replica's reads of the ledger (MongoDB `transactions`) that a client can
// ask for at will: statements (api/statement.ts) and balances as of a time or
// a cut (api/account-history.ts). Each reads an account's entries through the
// statement index `{accountId: 1, offset: -1}`; on FerretDB that means every
// entry of the account the index holds, checked against the filter, and what
// passes sorted by FerretDB itself (docs/embedded-database.md). So a replica runs one such read at a time, the
// others wait their turn: a burst of them cannot take every core from the
// ledger's inserts. The wait is bounded twice: past `queueLimit` waiting reads
// a new one gets 503 at once, and a read's whole budget, waiting and querying,
// is `deadlineMs`, below NGINX's proxy_read_timeout (15 s), so a slow read is
// our 503, not its 504.
import type { Collection, Document, Filter } from 'mongodb';
import { createError, TELLER_ERR_LEDGER_UNAVAILABLE, TELLER_ERR_STATEMENTS_BUSY } from '../common/errors.js';
import type { LedgerDoc } from '../common/types.js';
import { Turns } from './turns.js';

export interface LedgerReadLimits {
  /** Reads waiting for their turn at most; past it a read gets 503 `statements-busy` at once. */
  queueLimit: number;
  /** A read's whole budget, its wait and its queries; a read still waiting then gets 503 `statements-busy`. */
  deadlineMs: number;
}

export const DEFAULT_LEDGER_READ_LIMITS: LedgerReadLimits = { queueLimit: 8, deadlineMs: 10_000 };

/** What the readers use of the ledger collection: the real one, or an in-memory one in tests. */
export type LedgerCollection = Pick<Collection<LedgerDoc>, 'find'>;

/**
 * One query of a read: the documents `filter` matches, newest offset first, at
 * most `limit` of them (0: all), within what is left of the read's budget.
 */
export type LedgerFind = (filter: Filter<LedgerDoc>, limit: number, projection?: Document) => Promise<LedgerDoc[]>;

export class LedgerReads {
  private readonly turns: Turns;

  constructor(
    private readonly ledger: LedgerCollection,
    private readonly limits: LedgerReadLimits = DEFAULT_LEDGER_READ_LIMITS,
  ) {
    this.turns = new Turns(limits.queueLimit, () => createError(TELLER_ERR_STATEMENTS_BUSY));
  }

  /**
   * Runs `read` once its turn comes; rejects with TELLER_ERR_STATEMENTS_BUSY
   * when the queue is full or the deadline passes first. A query that fails
   * or runs out of time makes it 503 `ledger-unavailable`; a Teller error it
   * throws itself goes through as it is.
   */
  run<T>(read: (find: LedgerFind) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.limits.deadlineMs;
    return this.turns.run(deadline, async () => {
      let failedQuery = false;
      const find: LedgerFind = async (filter, limit, projection) => {
        try {
          return await this.find(filter, limit, projection, deadline);
        } catch (err) {
          failedQuery = true;
          throw err;
        }
      };
      try {
        return await read(find);
      } catch (err) {
        if (failedQuery) throw createError(TELLER_ERR_LEDGER_UNAVAILABLE);
        throw err;
      }
    });
  }

  /** One query, given what is left of the read's budget (a maxTimeMS of 0 would mean no limit at all). */
  private async find(filter: Filter<LedgerDoc>, limit: number, projection: Document | undefined, deadline: number): Promise<LedgerDoc[]> {
    const maxTimeMS = deadline - Date.now();
    if (maxTimeMS <= 0) throw new Error('the read ran out of time');
    const options = projection === undefined ? { sort: { offset: -1 as const }, limit, maxTimeMS } : { sort: { offset: -1 as const }, limit, maxTimeMS, projection };
    return (await this.ledger.find(filter, options).toArray()) as LedgerDoc[];
  }
}

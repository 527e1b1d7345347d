// Reads of the read model in Redis, written by the partition owners. A read is
// answered only while Redis holds the whole state of the account's partition:
// after Redis restarts empty, a missing account would otherwise read as 0.
import type { Redis } from 'ioredis';
import { partitionOf } from '../common/message.js';
import { ACCOUNT_VIEW_FIELDS, decodeAccount, decodeStoredOutcome, keys } from '../common/read-model.js';
import type { AccountView, Outcome } from '../common/types.js';
import { createError, TELLER_ERR_READ_MODEL_UNAVAILABLE, type TellerError } from '../common/errors.js';

export class ReadModel {
  constructor(
    private readonly redis: Redis,
    private readonly partitions: () => number,
  ) {}

  /** The account's state, or null for an account never seen. */
  async account(accountId: string): Promise<AccountView | null> {
    let fields: (string | null)[];
    let ready: number;
    try {
      const p = partitionOf(accountId, this.partitions());
      [fields, ready] = await Promise.all([
        this.redis.hmget(keys.account(accountId), ...ACCOUNT_VIEW_FIELDS),
        this.redis.exists(keys.ready(p)),
      ]);
    } catch {
      throw unavailable();
    }
    // Without the marker, even a present account may be older than what a client was told.
    if (ready !== 1) throw unavailable();
    return decodeAccount(accountId, fields);
  }

  /**
   * A transaction by id: the registry gives its account, and the account's
   * owner stored its outcome. Registered but not yet decided: no outcome.
   */
  async transaction(id: string): Promise<TransactionView | null> {
    try {
      const accountId = await this.redis.get(keys.txId(id));
      if (accountId === null) return null;
      const raw = await this.redis.get(keys.outcome(accountId, id));
      return raw === null ? { accountId } : { accountId, outcome: decodeStoredOutcome(accountId, id, raw) };
    } catch {
      throw unavailable();
    }
  }
}

export interface TransactionView {
  accountId: string;
  /** Absent while the id is registered but not yet decided. */
  outcome?: Outcome;
}

function unavailable(): TellerError {
  return createError(TELLER_ERR_READ_MODEL_UNAVAILABLE);
}

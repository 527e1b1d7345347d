// Reads of the read model in Redis, written by the partition owners. A read is
// answered only while Redis holds the whole state of the account's partition
// (its ready marker is there): after Redis restarts empty, a missing account
// would otherwise read as 0, and after it restarts from an older persistence
// file, an account or an outcome older than an answer already given.
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
   * owner stored its outcome. Registered but not yet decided: no outcome. An
   * id the registry lacks is unknown only while every partition is whole: the
   * owners write their ids back with the rest.
   */
  async transaction(id: string): Promise<TransactionView | null> {
    let view: TransactionView | null;
    let ready: boolean;
    try {
      const accountId = await this.redis.get(keys.txId(id));
      if (accountId === null) {
        view = null;
        ready = await this.everyPartitionReady();
      } else {
        const [raw, marker] = await Promise.all([
          this.redis.get(keys.outcome(accountId, id)),
          this.redis.exists(keys.ready(partitionOf(accountId, this.partitions()))),
        ]);
        view = raw === null ? { accountId } : { accountId, outcome: decodeStoredOutcome(accountId, id, raw) };
        ready = marker === 1;
      }
    } catch {
      throw unavailable();
    }
    if (!ready) throw unavailable();
    return view;
  }

  private async everyPartitionReady(): Promise<boolean> {
    const markers = Array.from({ length: this.partitions() }, (_, partition) => keys.ready(partition));
    return (await this.redis.exists(...markers)) === markers.length;
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

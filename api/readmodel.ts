// Reads of the read model in Redis, written by the partition owners. A read is
// answered only while Redis holds the whole state of the account's partition
// (its ready marker is there): after Redis restarts empty, a missing account
// would otherwise read as 0, and after it restarts from an older persistence
// file, an account or an outcome older than an answer already given. A
// transaction's outcome stays in Redis for OUTCOME_TTL_SECONDS; after it, or
// after Redis lost it, the ledger answers (api/ledger-lookup.ts).
import type { Redis } from 'ioredis';
import { partitionOf } from '../common/message.js';
import { ACCOUNT_VIEW_FIELDS, decodeAccount, decodeStoredOutcome, keys } from '../common/read-model.js';
import type { AccountView, Outcome, TxType } from '../common/types.js';
import { createError, TELLER_ERR_LEDGER_UNAVAILABLE, TELLER_ERR_READ_MODEL_UNAVAILABLE, type TellerError } from '../common/errors.js';
import { ledgerSettlement, ledgerTransaction, type LedgerReader } from './ledger-lookup.js';

export class ReadModel {
  constructor(
    private readonly redis: Pick<Redis, 'get' | 'hmget' | 'exists'>,
    private readonly partitions: () => number,
    private readonly ledger: LedgerReader,
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
   * owner stored its outcome. Once Redis has let both go, the ledger's newest
   * decision of the id, of any account. Registered but decided nowhere yet: no
   * outcome (pending). Redis is read only while the partition the registry
   * names is whole, or every partition when it names none: the owners write
   * their ids back with the rest. With `type`, only a decision of that type
   * answers (a transfer's lookup); registered and undecided is pending still.
   */
  async transaction(id: string, type?: TxType): Promise<TransactionView | null> {
    const { accountId, raw } = await this.whole(async () => {
      const accountId = await this.redis.get(keys.txId(id));
      if (accountId === null) return { accountId, raw: null, ready: await this.everyPartitionReady() };
      const [raw, ready] = await Promise.all([this.redis.get(keys.outcome(accountId, id)), this.partitionReady(accountId)]);
      return { accountId, raw, ready };
    });
    if (accountId !== null && raw !== null) {
      const outcome = decodeStoredOutcome(accountId, id, raw);
      return type === undefined || outcome.type === type ? { accountId, outcome } : null;
    }
    const outcome = await this.fromLedger(id, accountId ?? undefined, type);
    if (outcome) return { accountId: outcome.accountId, outcome };
    return accountId === null ? null : { accountId };
  }

  /** A transaction by its account and id, exactly: the stored outcome, else the ledger's; registered here and decided nowhere yet: pending. */
  async accountTransaction(accountId: string, id: string): Promise<TransactionView | null> {
    const { raw, registered } = await this.whole(async () => {
      const [raw, ready] = await Promise.all([this.redis.get(keys.outcome(accountId, id)), this.partitionReady(accountId)]);
      return { raw, ready, registered: raw === null ? await this.redis.get(keys.txId(id)) : null };
    });
    if (raw !== null) return { accountId, outcome: decodeStoredOutcome(accountId, id, raw) };
    const outcome = await this.fromLedger(id, accountId);
    if (outcome) return { accountId, outcome };
    return registered === accountId ? { accountId } : null;
  }

  /**
   * The applied post or void of a pending transfer decided at `after` on
   * `from`: from the ledger, which finds it by the transfer's id (Redis keeps
   * outcomes by their own ids only). Null while the ledger holds none: its
   * documents are written after the outcomes are announced.
   */
  async settlement(from: string, transferId: string, after: number): Promise<Outcome | null> {
    try {
      return await ledgerSettlement(this.ledger, from, transferId, after);
    } catch {
      throw createError(TELLER_ERR_LEDGER_UNAVAILABLE);
    }
  }

  /**
   * What `read` reads from Redis, once it says Redis holds the whole of what
   * was read (`ready`); else 503, as when Redis does not answer. Without it,
   * what Redis holds or lacks may be older than what a client was told, and so
   * may the ledger, which is written after the outcomes are announced.
   */
  private async whole<T extends { ready: boolean }>(read: () => Promise<T>): Promise<T> {
    let answer: T;
    try {
      answer = await read();
    } catch {
      throw unavailable();
    }
    if (!answer.ready) throw unavailable();
    return answer;
  }

  private async partitionReady(accountId: string): Promise<boolean> {
    return (await this.redis.exists(keys.ready(partitionOf(accountId, this.partitions())))) === 1;
  }

  private async everyPartitionReady(): Promise<boolean> {
    const markers = Array.from({ length: this.partitions() }, (_, partition) => keys.ready(partition));
    return (await this.redis.exists(...markers)) === markers.length;
  }

  private async fromLedger(id: string, accountId: string | undefined, type?: TxType): Promise<Outcome | null> {
    try {
      return await ledgerTransaction(this.ledger, id, accountId, type);
    } catch {
      throw createError(TELLER_ERR_LEDGER_UNAVAILABLE);
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

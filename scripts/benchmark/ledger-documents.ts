// Ledger documents for the index-cost phase, made by the consumer's own rules
// (consumer/ledger.ts `decide`) so their shape is the ledger's and follows it
// when it changes: deposits, withdrawal requests and withdrawals over a set of
// accounts, with random UUID ids as clients send them, each decided against
// its account at the next offset of the account's partition.
import { randomUUID } from 'node:crypto';
import { partitionOf } from '../../common/message.js';
import type { LedgerDoc, TxMessage } from '../../common/types.js';
import { decide, EMPTY_ACCOUNT, type Account } from '../../consumer/ledger.js';
import { prng } from './contract-flow.js';

export interface LedgerDocumentsOptions {
  accounts: number;
  partitions: number;
  /** Accounts are `<accountPrefix>-<n>`. */
  accountPrefix: string;
  /** Picks the accounts, types and amounts (the ids are random whatever it is). */
  seed: number;
  /** The first message's `receivedAt`; each next one is a millisecond later. */
  startMs: number;
  /** A request's time to live and the hold limit, as the api puts them in the message. */
  requestTtlSeconds: number;
  holdLimit: number;
}

/** Shares of the messages: the rest are withdrawals, which settle a named hold when the account has one. */
const DEPOSIT_SHARE = 0.4;
const REQUEST_SHARE = 0.3;

export class LedgerDocuments {
  private readonly rand: () => number;
  private readonly accounts = new Map<string, Account>();
  private readonly nextOffset: number[];
  private receivedAt: number;

  constructor(private readonly options: LedgerDocumentsOptions) {
    if (options.accounts < 1 || options.partitions < 1) throw new Error('ledger documents need at least one account and one partition');
    this.rand = prng(options.seed);
    this.nextOffset = new Array<number>(options.partitions).fill(0);
    this.receivedAt = options.startMs;
  }

  /** The next `count` decision documents, in log order within each partition. */
  next(count: number): LedgerDoc[] {
    const docs: LedgerDoc[] = [];
    for (let i = 0; i < count; i++) docs.push(this.decideNext());
    return docs;
  }

  private decideNext(): LedgerDoc {
    const accountId = `${this.options.accountPrefix}-${Math.floor(this.rand() * this.options.accounts)}`;
    const account = this.accounts.get(accountId) ?? EMPTY_ACCOUNT;
    const msg = this.message(accountId, account);
    const partition = partitionOf(accountId, this.options.partitions);
    const offset = this.nextOffset[partition] ?? 0;
    this.nextOffset[partition] = offset + 1;
    const decision = decide(account, msg, { partition, offset, clock: msg.receivedAt });
    this.accounts.set(accountId, decision.account);
    return decision.doc;
  }

  /** A message as the api builds it (api/submit.ts) for a call on `accountId`. */
  private message(accountId: string, account: Account): TxMessage {
    const receivedAt = this.receivedAt++;
    const base = { v: 1 as const, id: randomUUID(), accountId, receivedAt };
    const pick = this.rand();
    if (pick < DEPOSIT_SHARE) return { ...base, type: 'deposit', amount: this.between(1_000, 20_000) };
    if (pick < DEPOSIT_SHARE + REQUEST_SHARE) {
      const expiresInSeconds = this.options.requestTtlSeconds;
      return {
        ...base,
        type: 'withdraw_request',
        amount: this.between(500, 15_000),
        expiresInSeconds,
        expiresAt: receivedAt + 1000 * expiresInSeconds,
        holdLimit: this.options.holdLimit,
      };
    }
    const hold = account.holds[0];
    if (hold) return { ...base, type: 'withdraw', amount: hold.amount, requestId: hold.id };
    return { ...base, type: 'withdraw', amount: this.between(500, 10_000) };
  }

  private between(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }
}

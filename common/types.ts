// Shared shapes of the Kafka messages, the ledger's outcomes and its documents.
// The api produces messages and reads outcomes; the consumer decides them.

export const TX_TYPES = [
  'deposit',
  'withdraw_request',
  'withdraw',
  'cancel',
  'transfer',
  'transfer_credit',
  'transfer_return',
  'account_settings',
  'reversal',
  'transfer_post',
  'transfer_void',
] as const;
export type TxType = (typeof TX_TYPES)[number];

/** The types the owners mint themselves (docs/transfers.md): never taken from a client. */
export const MINTED_TYPES = ['transfer_credit', 'transfer_return'] as const;

export const ACCOUNT_STATUSES = ['open', 'frozen', 'closed'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** A client's labels on a write: string keys and values, bounded (common/message.ts). */
export type Metadata = Record<string, string>;

/** A client's transaction on one account, as it travels on the topic (docs/kafka-contract.md). */
export interface TxMessage {
  v: 1;
  id: string;
  type: TxType;
  accountId: string;
  /** Minor units; absent for `cancel` and `account_settings`, and for a `reversal` of all that is left. */
  amount?: number;
  /**
   * For `withdraw` (settle exactly this hold) and `cancel` (release this hold);
   * for `reversal`, the transaction it undoes on the same account (docs/transfers.md, Reversals);
   * for `transfer_post` and `transfer_void`, the pending transfer whose hold they settle or release.
   */
  requestId?: string;
  /**
   * For `transfer`: a two-phase transfer (docs/transfers.md), which holds the
   * amount on `from` until a `transfer_post` or `transfer_void`, or its lapse,
   * like a withdrawal request (`expiresAt`, `expiresInSeconds`). Part of the body.
   */
  pending?: true;
  /**
   * For `withdraw_request`: when the hold lapses, in ms since the epoch, judged by the log's clock.
   * Read while the partition's clock source is `receivedAt`; after that only for a message without
   * `expiresInSeconds`, whose hold lapses that long after its decision instead.
   */
  expiresAt?: number;
  /**
   * For `withdraw_request`: the hold's time to live the call asked for, or the
   * api's default when it named none. Part of the body (common/body.ts);
   * `expiresAt` is computed from it and differs on every retry.
   */
  expiresInSeconds?: number;
  /**
   * For `withdraw_request`: the most open holds the account may have for it
   * to be approved, set by the api from its configuration. Carried in the
   * message so that a replay applies the limit that was in force; absent:
   * no limit (messages from before it). Not part of the body.
   */
  holdLimit?: number;
  /**
   * For a `withdraw_request` whose caller waits: by when the api answers it, in ms since the
   * epoch by the api's clock. An approval decided well after it was answered as a timeout, and
   * its owner cancels it (docs/ledger-rules.md). Not part of the body an id is judged by.
   */
  answerBy?: number;
  /**
   * When the api accepted the call, ms since the epoch. The partition's clock
   * while its clock source is `receivedAt` (see ClockSource); informational after.
   */
  receivedAt: number;
  /**
   * When the client says it made the call (the compatibility route's
   * `timestamp`), as an ISO string in UTC: copied to the ledger document as
   * the client's claim, never read by the rules, not part of the body.
   */
  clientTimestamp?: string;
  /**
   * The other account of a transfer's leg (docs/transfers.md): for `transfer`
   * the account credited, for `transfer_credit` the account debited, for
   * `transfer_return` the account that refused the credit.
   */
  counterparty?: string;
  /** For `transfer_credit` and `transfer_return`: the id of the transfer, on the account debited. */
  transferId?: string;
  /** A client's external id for the write, 1 to 128 characters; part of the body. */
  reference?: string;
  /** A client's labels for the write; part of the body. */
  metadata?: Metadata;
  /** For `account_settings`: the new overdraft limit, minor units below zero the available funds may reach. */
  overdraftLimit?: number;
  /** For `account_settings`: the new status of the account. */
  accountStatus?: AccountStatus;
  /** The api replica waiting for the outcome (its Redis channel suffix). */
  replyTo?: string;
  /**
   * The waiting call's own token, set with `replyTo`: the owner's announcement
   * carries it back, so that the outcome wakes this call and no other call
   * with the same id (api/waiter.ts).
   */
  callId?: string;
  /**
   * For a `transfer` whose caller waits: the call's token for the credit leg,
   * which the owner of `from` copies into the credit as its `callId` (with
   * `replyTo`), so that the owner of `to` announces the credit to the call.
   */
  creditCallId?: string;
}

/** Advances a partition's log clock so that holds lapse even when an account is quiet. */
export interface TickMessage {
  v: 1;
  type: 'tick';
  /** The publishing consumer's clock: the partition's clock while its source is `receivedAt`. */
  receivedAt: number;
}

/**
 * What moves a partition's clock (docs/ledger-rules.md, The log clock):
 * - `receivedAt`: the largest `receivedAt` read, each stamped by the clock of
 *   the api replica or consumer that published it;
 * - `log-append-time`: the largest record timestamp read, which the broker
 *   stamps when it appends the record (the topic's `message.timestamp.type`
 *   is `LogAppendTime`).
 * A partition starts on `receivedAt` and moves to `log-append-time` at the
 * first ClockMessage in its log, for good.
 */
export type ClockSource = 'receivedAt' | 'log-append-time';

/**
 * Moves a partition's clock to the broker's append time, from this record on
 * (this record's own timestamp included). An owner publishes it once it has
 * seen that the topic appends with LogAppendTime; a second one changes nothing.
 */
export interface ClockMessage {
  v: 1;
  type: 'clock';
  source: 'log-append-time';
  /** The publishing consumer's clock, informational only. */
  receivedAt: number;
}

export type LogMessage = TxMessage | TickMessage | ClockMessage;

export type TxStatus =
  | 'applied' // deposit, withdrawal, cancel, transfer's leg, settings, reversal, post, void
  | 'approved' // withdrawal request, pending transfer: a hold
  | 'denied' // refused, nothing changed (funds, the hold limit, the account's status, the exact range, more than the original or the hold)
  | 'cancelled' // withdrawal request later cancelled (by the client or after a timeout)
  | 'expired' // withdrawal request or pending transfer whose hold lapsed
  | 'posted' // pending transfer later posted
  | 'voided' // pending transfer later voided
  | 'not_found' // cancel, post or void of a hold that is not held; reversal of an original not remembered or not reversible
  | 'conflict'; // id reused with another body: refused, nothing changed

/** Every reason a decision may give: the one list the schemas, the codecs and the events read. */
export const TX_REASONS = [
  'insufficient_funds',
  'id_reused',
  'request_not_held',
  'timeout',
  'balance_out_of_range',
  'hold_limit',
  'account_frozen', // a debit on a frozen account
  'account_closed', // a debit or a credit on a closed account
  'account_not_empty', // closing an account that holds money or has open holds
  'original_not_found', // a reversal of an id the account does not remember (never decided, or past the id window)
  'not_reversible', // a reversal of something other than an applied deposit, withdrawal or transfer credit
  'exceeds_original', // a reversal of more than is left of its original
  'exceeds_pending', // a post of more than its pending transfer holds
] as const;
export type TxReason = (typeof TX_REASONS)[number];

/**
 * What a decision adds for transfers, settings, references and metadata
 * (docs/transfers.md), in its outcome and in its ledger document alike.
 */
export interface DecisionExtras {
  /** Of a transfer's leg: the other account. */
  counterparty?: string;
  /** Of a transfer's credit or return: the transfer's id. */
  transferId?: string;
  /** Of a two-phase transfer. */
  pending?: true;
  /** Of an applied `transfer_post`: the amount debited and credited; the document's `amount` is what the message named (0: none). */
  postedAmount?: number;
  reference?: string;
  metadata?: Metadata;
  /** Of `account_settings`: the settings asked for; part of the body. */
  overdraftLimit?: number;
  accountStatus?: AccountStatus;
}

/** The ledger's decision on one message, as the client sees it. */
export interface Outcome extends DecisionExtras {
  id: string;
  accountId: string;
  type: TxType;
  amount?: number;
  requestId?: string;
  /** The request's time to live, as its message carried it: kept to compare repeats with (common/body.ts). */
  expiresInSeconds?: number;
  status: TxStatus;
  reason?: TxReason;
  overdraft?: boolean;
  /** Balance and reserved of the account right after this decision. */
  balance: number;
  reserved: number;
  /** Of an applied deposit, withdrawal or transfer credit: the total its applied reversals took back so far. */
  reversed?: number;
  /** Of a `reversal` that named no amount: it reversed all that was left, its `amount`. */
  remainder?: true;
  /** True when this answers a repeat of an id already decided. */
  replayed?: boolean;
  /** Log clock at the decision (ms since the epoch). */
  decidedAt: number;
}

/** What a ledger document's `type` may be: its message's, or `expire` for a lapsed hold. */
export const LEDGER_DOC_TYPES = [...TX_TYPES, 'expire'] as const;

/**
 * What a ledger document's `status` may be: the decision's, as it was made. A
 * conflict writes no document; what later became of a hold (cancelled,
 * expired, posted, voided) is in later documents (common/ledger-outcome.ts).
 */
export const LEDGER_DOC_STATUSES = ['applied', 'approved', 'denied', 'not_found'] as const satisfies readonly TxStatus[];

/** One ledger document per decided transaction (and per lapsed hold): `transactions` collection. */
export interface LedgerDoc extends DecisionExtras {
  _id: string;
  id: string;
  accountId: string;
  type: TxType | 'expire';
  amount: number;
  requestId?: string;
  status: TxStatus;
  reason?: TxReason;
  overdraft?: boolean;
  balanceAfter: number;
  reservedAfter: number;
  partition: number;
  offset: number;
  receivedAt: number;
  /**
   * The partition's log clock at the decision (of a lapse: at the lapse): what
   * the id window and the reads as of a time are judged by. Absent from
   * documents written before it was recorded, lapses until later still, which
   * read `receivedAt` instead (common/ledger-outcome.ts): a lapse's
   * `receivedAt` is that same clock, a decision's the api's receipt.
   */
  decidedAt?: number;
  /** A withdrawal request's time to live as its message carried it: part of the body repeats are compared with. */
  expiresInSeconds?: number;
  /** The client's claimed time of the call, as its message carried it; informational only. */
  clientTimestamp?: string;
  /** Of a `reversal` that named no amount: `amount` is all that was left of its original. */
  remainder?: true;
}

/** Read model of an account, as Redis holds it and the GET routes serve it. */
export interface AccountView {
  accountId: string;
  balance: number;
  reserved: number;
  updatedAt: number;
  /** Absent: 0. */
  overdraftLimit?: number;
  /** Absent: `open`. */
  status?: AccountStatus;
}

// Shared shapes of the Kafka messages, the ledger's outcomes and its documents.
// The api produces messages and reads outcomes; the consumer decides them.

export const TX_TYPES = ['deposit', 'withdraw_request', 'withdraw', 'cancel'] as const;
export type TxType = (typeof TX_TYPES)[number];

/** A client's transaction on one account, as it travels on the topic (docs/kafka-contract.md). */
export interface TxMessage {
  v: 1;
  id: string;
  type: TxType;
  accountId: string;
  /** Minor units; absent only for `cancel`. */
  amount?: number;
  /** For `withdraw` (settle exactly this hold) and `cancel` (release this hold). */
  requestId?: string;
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
  /** The api replica waiting for the outcome (its Redis channel suffix). */
  replyTo?: string;
  /**
   * The waiting call's own token, set with `replyTo`: the owner's announcement
   * carries it back, so that the outcome wakes this call and no other call
   * with the same id (api/waiter.ts).
   */
  callId?: string;
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
  | 'applied' // deposit, withdrawal, cancel
  | 'approved' // withdrawal request
  | 'denied' // withdrawal request refused (funds, or the hold limit); a deposit or withdrawal that would leave the exact range
  | 'cancelled' // withdrawal request later cancelled (by the client or after a timeout)
  | 'expired' // withdrawal request whose hold lapsed
  | 'not_found' // cancel of a hold that is not held
  | 'conflict'; // id reused with another body: refused, nothing changed

export type TxReason = 'insufficient_funds' | 'id_reused' | 'request_not_held' | 'timeout' | 'balance_out_of_range' | 'hold_limit';

/** The ledger's decision on one message, as the client sees it. */
export interface Outcome {
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
  /** True when this answers a repeat of an id already decided. */
  replayed?: boolean;
  /** Log clock at the decision (ms since the epoch). */
  decidedAt: number;
}

/** One ledger document per decided transaction (and per lapsed hold): `transactions` collection. */
export interface LedgerDoc {
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
   * The partition's log clock at the decision: what the id window is judged
   * by. Absent from lapses and from documents decided before it was written,
   * which read `receivedAt` instead (common/ledger-outcome.ts).
   */
  decidedAt?: number;
  /** A withdrawal request's time to live as its message carried it: part of the body repeats are compared with. */
  expiresInSeconds?: number;
  /** The client's claimed time of the call, as its message carried it; informational only. */
  clientTimestamp?: string;
}

/** Read model of an account, as Redis holds it and the GET routes serve it. */
export interface AccountView {
  accountId: string;
  balance: number;
  reserved: number;
  updatedAt: number;
}

// Taking a transaction: refuse an id seen on another account, start waiting
// for the outcome, hand the message to the batching producer, then wait for
// the owner's decision until the deadline. Shared by every write route.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { bodyDigest } from '../common/body.js';
import { partitionOf } from '../common/message.js';
import { keys } from '../common/read-model.js';
import { retry } from '../common/retry.js';
import { timeoutCancel } from '../common/timeout-cancel.js';
import {
  createError,
  hasCode,
  TELLER_ERR_HOLD_OUTLIVES_ID,
  TELLER_ERR_ID_REUSED_ON_ANOTHER_ACCOUNT,
  TELLER_ERR_PRODUCER_UNAVAILABLE,
} from '../common/errors.js';
import type { AccountStatus, Metadata, Outcome, TxMessage, TxType } from '../common/types.js';
import type { Batcher } from '../producer/batcher.js';
import type { OutcomeWaiter } from './waiter.js';

export interface TxRequest {
  id: string;
  type: TxType;
  accountId: string;
  amount?: number;
  requestId?: string;
  ttlSeconds?: number;
  /** The client's claimed time, ISO in UTC (api/client-timestamp.ts). */
  clientTimestamp?: string;
  /** A client's external id for the write; part of the body (docs/transfers.md). */
  reference?: string;
  /** A client's labels for the write; part of the body. */
  metadata?: Metadata;
  /** For a `transfer`: the account credited. */
  counterparty?: string;
  /** For a `transfer`: two-phase (docs/transfers.md), its hold lapsing after `ttlSeconds` as a request's does. */
  pending?: true;
  /** For `account_settings`: the settings asked for. */
  overdraftLimit?: number;
  accountStatus?: AccountStatus;
}

/** The members of a call copied as they are into its message when present. */
const CARRIED = ['amount', 'requestId', 'clientTimestamp', 'reference', 'metadata', 'counterparty', 'overdraftLimit', 'accountStatus', 'pending'] as const;

export type SubmitResult =
  | { kind: 'decided'; outcome: Outcome }
  /**
   * Durable in Kafka, decision to follow (202). `bodyDigest` names the call's
   * body (common/body.ts), so that its poller can tell its own decision from
   * another call's under the same id.
   */
  | { kind: 'accepted'; receivedAt: number; bodyDigest: string }
  /** A withdrawal request not decided in time: denied for the client, and a cancel was published. */
  | { kind: 'timed_out'; receivedAt: number };

/** What the submitter uses of each collaborator: the real ones in api/main.ts, in-memory ones in tests. */
export interface SubmitDeps {
  batcher: Pick<Batcher, 'send'>;
  waiter: Pick<OutcomeWaiter, 'listening' | 'wait'>;
  /** The registry of ids across accounts. */
  redis: Pick<Redis, 'set' | 'eval'>;
  log: Logger;
  replicaId: string;
  partitions: () => number;
  decisionTimeoutMs: number;
  /**
   * How long the producer takes at most to settle a message (PRODUCER_SEND_TIMEOUT_MS):
   * a waiting caller is answered by its `answerBy` plus this.
   */
  sendTimeoutMs: number;
  /** How long an id is remembered (ID_WINDOW_SECONDS): no hold may be asked to outlive it. */
  idWindowSeconds: number;
  requestTtlSeconds: number;
  /** How long the registry keeps an id across accounts (OUTCOME_TTL_SECONDS). */
  registrySeconds: number;
  /**
   * The most open holds an account may have for a withdrawal request to be
   * approved (MAX_HOLDS_PER_ACCOUNT): each request carries it, so that the
   * owner, and every replay, applies the limit in force when it was taken.
   */
  holdLimit: number;
  /** Told what became of every call taken (metrics). */
  onResult?: (tx: TxRequest, result: SubmitResult) => void;
}

/** Cancels one replica retries at once: past it, during a long Kafka outage, the owners cancel late approvals alone. */
const MAX_CANCELS_RETRYING = 10_000;

/**
 * Deletes the registration only while it still names this account and the
 * account's owner has stored no outcome for the id: a call with the same id
 * on the same account that another replica got into the log and decided
 * keeps it. KEYS: registry entry, outcome; ARGV: account id.
 */
const RELEASE_ID = `if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('EXISTS', KEYS[2]) == 0 then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Takes the calls of every write route. A transfer's two legs are taken by
 * api/transfer-submit.ts, which uses this submitter's parts (its settings,
 * the registry of ids, the message, the producer) rather than copies of them.
 */
export class TransactionSubmitter {
  /** Cancels of timed-out withdrawal requests being published again in the background. */
  private cancelsRetrying = 0;

  constructor(readonly deps: SubmitDeps) {}

  async submit(tx: TxRequest, opts: { wait: boolean }): Promise<SubmitResult> {
    const result = await this.take(tx, opts);
    this.deps.onResult?.(tx, result);
    return result;
  }

  private async take(tx: TxRequest, opts: { wait: boolean }): Promise<SubmitResult> {
    this.refuseHoldOutlivingId(tx);
    const claimed = await this.claimId(tx);
    const receivedAt = Date.now();
    const waiting = opts.wait && this.deps.waiter.listening ? this.deps.waiter.wait(tx.accountId, tx.id, this.deps.decisionTimeoutMs) : undefined;
    // What a waiting caller is told is settled by then (at once when the replica hears no outcomes): a
    // decision heard later is not waited for. The answer itself may come up to PRODUCER_SEND_TIMEOUT_MS
    // after it: the message's own send can take that long, and so can a timed-out request's cancel.
    const answerBy = opts.wait ? receivedAt + (waiting ? this.deps.decisionTimeoutMs : 0) : undefined;
    const msg = this.message(tx, receivedAt, waiting?.callId, answerBy);
    try {
      await this.produce(msg);
    } catch (err) {
      waiting?.cancel();
      if (claimed && hasCode(err, TELLER_ERR_PRODUCER_UNAVAILABLE.code)) await this.releaseId(tx);
      throw err;
    }
    const outcome = waiting ? await waiting.promise : undefined;
    if (outcome) return { kind: 'decided', outcome };
    if (tx.type === 'withdraw_request' && answerBy !== undefined) {
      await this.cancelAfterTimeout(tx, answerBy + this.deps.sendTimeoutMs);
      return { kind: 'timed_out', receivedAt };
    }
    return { kind: 'accepted', receivedAt, bodyDigest: bodyDigest(msg) };
  }

  /** Once its id is forgotten, a retry of the request (or pending transfer) would be new and hold the funds again. */
  refuseHoldOutlivingId(tx: TxRequest): void {
    if (tx.ttlSeconds !== undefined && tx.ttlSeconds > this.deps.idWindowSeconds) {
      throw createError(TELLER_ERR_HOLD_OUTLIVES_ID, { expiresInSeconds: tx.ttlSeconds, idWindowSeconds: this.deps.idWindowSeconds });
    }
  }

  /**
   * The registry of ids across accounts. The owner of an account enforces ids
   * exactly for that account, for the whole id window; this catches an id
   * reused on another account while its first use is within the registry's
   * horizon (`registrySeconds`, short, so Redis holds no id for the window);
   * after it, ids are scoped by account. Best effort by design: while Redis
   * is down the call goes on. True when this call registered the id (it was
   * not registered before).
   */
  async claimId(tx: TxRequest): Promise<boolean> {
    let previous: string | null;
    try {
      previous = await this.deps.redis.set(keys.txId(tx.id), tx.accountId, 'EX', this.deps.registrySeconds, 'NX', 'GET');
    } catch (err) {
      this.deps.log.debug({ err }, 'id registry unavailable');
      return false;
    }
    if (previous !== null && previous !== tx.accountId) {
      throw createError(TELLER_ERR_ID_REUSED_ON_ANOTHER_ACCOUNT, { id: tx.id });
    }
    return previous === null;
  }

  /**
   * Undoes this call's registration once the producer refused the message
   * unsent (not when a sent message went unconfirmed: Kafka may still write
   * it). Otherwise the id would read `pending` and be refused on other
   * accounts for the registry's horizon, for a call that was never taken.
   */
  async releaseId(tx: TxRequest): Promise<void> {
    try {
      await this.deps.redis.eval(RELEASE_ID, 2, keys.txId(tx.id), keys.outcome(tx.accountId, tx.id), tx.accountId);
    } catch (err) {
      this.deps.log.debug({ err, id: tx.id }, 'id registry unavailable: the registration stays');
    }
  }

  /**
   * `callId`: the token of the waiting call; a call that does not wait asks for no announcement.
   * `answerBy`: when what a waiting caller is told is settled (docs/ledger-rules.md, late approvals).
   */
  message(tx: TxRequest, receivedAt: number, callId: string | undefined, answerBy: number | undefined): TxMessage {
    const msg: TxMessage = { v: 1, id: tx.id, type: tx.type, accountId: tx.accountId, receivedAt };
    if (callId !== undefined) {
      msg.replyTo = this.deps.replicaId;
      msg.callId = callId;
    }
    for (const key of CARRIED) if (tx[key] !== undefined) Object.assign(msg, { [key]: tx[key] });
    if (tx.type === 'withdraw_request' || tx.pending) {
      // The default is filled in here, so a call that names none and one that names the default have one body.
      msg.expiresInSeconds = this.ttlSeconds(tx);
      msg.expiresAt = receivedAt + 1000 * msg.expiresInSeconds;
    }
    if (tx.type === 'withdraw_request') {
      msg.holdLimit = this.deps.holdLimit;
      if (answerBy !== undefined) msg.answerBy = answerBy;
    }
    return msg;
  }

  private ttlSeconds(tx: TxRequest): number {
    return tx.ttlSeconds ?? this.deps.requestTtlSeconds;
  }

  /** Rejects with TELLER_ERR_PRODUCER_UNAVAILABLE when the batching producer cannot take the message. */
  produce(msg: TxMessage): Promise<void> {
    return this.deps.batcher.send(msg, msg.accountId, partitionOf(msg.accountId, this.deps.partitions()));
  }

  /**
   * Same key as the request, so the cancel lands after it in the partition.
   * The caller waits for the publish until `answerLatest` at most (its
   * `answerBy` plus the send's time: the request's own send may have taken
   * most of that already); a publish still under way then goes on without it.
   * A failed publish is tried again in the background until the request's
   * time to live has passed (its hold has lapsed by then). The request's owner
   * also cancels a request it approves well past its `answerBy`
   * (consumer/late-cancel.ts), so the release does not hang on this replica
   * staying up.
   */
  private async cancelAfterTimeout(tx: TxRequest, answerLatest: number): Promise<void> {
    const cancel = timeoutCancel(tx.accountId, tx.id, Date.now());
    const published = this.produce(cancel).catch((err: unknown) => this.retryCancel(tx, cancel, err));
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, answerLatest - Date.now()));
    });
    try {
      await Promise.race([published, outOfTime]);
    } finally {
      clearTimeout(timer);
    }
  }

  private retryCancel(tx: TxRequest, cancel: TxMessage, err: unknown): void {
    if (this.cancelsRetrying >= MAX_CANCELS_RETRYING) {
      this.deps.log.error({ err, id: tx.id }, 'could not publish the cancel of a timed-out withdrawal request; too many retrying already');
      return;
    }
    this.deps.log.warn({ err, id: tx.id }, 'could not publish the cancel of a timed-out withdrawal request; retrying');
    this.cancelsRetrying++;
    void retry(() => this.produce(cancel), { what: 'timeout cancel', firstDelayMs: 200, maxDelayMs: 5000, giveUpAfterMs: 1000 * this.ttlSeconds(tx) })
      .catch((last: unknown) => this.deps.log.error({ err: last, id: tx.id }, 'gave up publishing the cancel of a timed-out withdrawal request'))
      .finally(() => this.cancelsRetrying--);
  }
}

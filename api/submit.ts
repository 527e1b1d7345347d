// Taking a transaction: refuse an id seen on another account, start waiting
// for the outcome, hand the message to the batching producer, then wait for
// the owner's decision until the deadline. Shared by every write route.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { partitionOf } from '../common/message.js';
import { keys } from '../common/read-model.js';
import { retry } from '../common/retry.js';
import { timeoutCancel } from '../common/timeout-cancel.js';
import { createError, TELLER_ERR_ID_REUSED_ON_ANOTHER_ACCOUNT } from '../common/errors.js';
import type { Outcome, TxMessage, TxType } from '../common/types.js';
import type { Batcher } from '../producer/batcher.js';
import type { OutcomeWaiter } from './waiter.js';

export interface TxRequest {
  id: string;
  type: TxType;
  accountId: string;
  amount?: number;
  requestId?: string;
  ttlSeconds?: number;
}

export type SubmitResult =
  | { kind: 'decided'; outcome: Outcome }
  /** Durable in Kafka, decision to follow (202). */
  | { kind: 'accepted'; receivedAt: number }
  /** A withdrawal request not decided in time: denied for the client, and a cancel was published. */
  | { kind: 'timed_out'; receivedAt: number };

/** What the submitter uses of each collaborator: the real ones in api/main.ts, in-memory ones in tests. */
export interface SubmitDeps {
  batcher: Pick<Batcher, 'send'>;
  waiter: Pick<OutcomeWaiter, 'listening' | 'wait'>;
  /** The registry of ids across accounts. */
  redis: Pick<Redis, 'set'>;
  log: Logger;
  replicaId: string;
  partitions: () => number;
  decisionTimeoutMs: number;
  idWindowSeconds: number;
  requestTtlSeconds: number;
  /** Told what became of every call taken (metrics). */
  onResult?: (tx: TxRequest, result: SubmitResult) => void;
}

/** Cancels one replica retries at once: past it, during a long Kafka outage, the owners cancel late approvals alone. */
const MAX_CANCELS_RETRYING = 10_000;

export class TransactionSubmitter {
  /** Cancels of timed-out withdrawal requests being published again in the background. */
  private cancelsRetrying = 0;

  constructor(private readonly deps: SubmitDeps) {}

  async submit(tx: TxRequest, opts: { wait: boolean }): Promise<SubmitResult> {
    const result = await this.take(tx, opts);
    this.deps.onResult?.(tx, result);
    return result;
  }

  private async take(tx: TxRequest, opts: { wait: boolean }): Promise<SubmitResult> {
    await this.claimId(tx);
    const receivedAt = Date.now();
    const waiting = opts.wait && this.deps.waiter.listening ? this.deps.waiter.wait(tx.accountId, tx.id, this.deps.decisionTimeoutMs) : undefined;
    // A caller that waits is answered by then at the latest: at once when the replica hears no outcomes.
    const answerBy = opts.wait ? receivedAt + (waiting ? this.deps.decisionTimeoutMs : 0) : undefined;
    try {
      await this.produce(this.message(tx, receivedAt, answerBy));
    } catch (err) {
      waiting?.cancel();
      throw err;
    }
    const outcome = waiting ? await waiting.promise : undefined;
    if (outcome) return { kind: 'decided', outcome };
    if (tx.type === 'withdraw_request' && opts.wait) {
      await this.cancelAfterTimeout(tx);
      return { kind: 'timed_out', receivedAt };
    }
    return { kind: 'accepted', receivedAt };
  }

  /**
   * The registry of ids across accounts. The owner of an account enforces ids
   * exactly for that account; this catches an id reused on another account.
   * Best effort by design: while Redis is down the call goes on.
   */
  private async claimId(tx: TxRequest): Promise<void> {
    let previous: string | null;
    try {
      previous = await this.deps.redis.set(keys.txId(tx.id), tx.accountId, 'EX', this.deps.idWindowSeconds, 'NX', 'GET');
    } catch (err) {
      this.deps.log.debug({ err }, 'id registry unavailable');
      return;
    }
    if (previous !== null && previous !== tx.accountId) {
      throw createError(TELLER_ERR_ID_REUSED_ON_ANOTHER_ACCOUNT, { id: tx.id });
    }
  }

  private message(tx: TxRequest, receivedAt: number, answerBy: number | undefined): TxMessage {
    const msg: TxMessage = { v: 1, id: tx.id, type: tx.type, accountId: tx.accountId, receivedAt, replyTo: this.deps.replicaId };
    if (tx.amount !== undefined) msg.amount = tx.amount;
    if (tx.requestId !== undefined) msg.requestId = tx.requestId;
    if (tx.type === 'withdraw_request') msg.expiresAt = receivedAt + 1000 * this.ttlSeconds(tx);
    if (tx.type === 'withdraw_request' && answerBy !== undefined) msg.answerBy = answerBy;
    return msg;
  }

  private ttlSeconds(tx: TxRequest): number {
    return tx.ttlSeconds ?? this.deps.requestTtlSeconds;
  }

  /** Rejects with TELLER_ERR_PRODUCER_UNAVAILABLE when the batching producer cannot take the message. */
  private produce(msg: TxMessage): Promise<void> {
    return this.deps.batcher.send(msg, msg.accountId, partitionOf(msg.accountId, this.deps.partitions()));
  }

  /**
   * Same key as the request, so the cancel lands after it in the partition. A
   * failed publish is tried again in the background until the request's time
   * to live has passed (its hold has lapsed by then), while the caller gets
   * its answer. The request's owner also cancels a request it approves well
   * past its `answerBy` (consumer/late-cancel.ts), so the release does not
   * hang on this replica staying up.
   */
  private async cancelAfterTimeout(tx: TxRequest): Promise<void> {
    const cancel = timeoutCancel(tx.accountId, tx.id, Date.now());
    try {
      await this.produce(cancel);
    } catch (err) {
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
}

// Turns accepted requests into batched Kafka sends: requests queue for a few
// ms (or until a batch fills) and go out in one acks=all send: a send per
// request costs Kafka a round trip each (docs/kafka-contract.md). Each call has
// PRODUCER_SEND_TIMEOUT_MS from when it is taken, its wait in the queue
// included, so its caller is answered within it however busy the sends are.
// What Kafka does not confirm of a batch is sent again within its callers' time
// (producer/batch-attempts.ts), so a partition leader that moves costs its calls
// a wait rather than a failure. The queue is bounded, a call whose time passes
// while it is queued is refused unsent, and once a batch fails for good every
// call is refused at once for a while: a client gets a fast 503 it can retry
// with the same id, rather than a slow one.
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { createError, TELLER_ERR_PRODUCER_UNAVAILABLE, type TellerError } from '../common/errors.js';
import { encodeMessage } from '../common/message.js';
import type { LogMessage } from '../common/types.js';
import { sendWithinBudget, type Waiting } from './batch-attempts.js';

/**
 * Why the batcher refused a message without sending it: at once (`queue_full`,
 * `kafka_unavailable`, `stopped`), or once its time passed while it was queued
 * behind sends that Kafka was slow to confirm (`queue_timeout`).
 */
export type RefusalReason = 'queue_full' | 'kafka_unavailable' | 'stopped' | 'queue_timeout';

function unavailable(reason: RefusalReason): TellerError {
  return createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason });
}

export interface BatcherOptions {
  topic: string;
  lingerMs: number;
  batchMax: number;
  queueMax: number;
  /** How long a call may take to be confirmed, from when it is taken: queued, sent and re-sent. */
  sendTimeoutMs: number;
  /** How long after a failed send new calls are refused at once. */
  backoffMs?: number;
  /** The pause between a batch's failed attempt and its re-send. */
  resendPauseMs?: number;
  maxConcurrentSends?: number;
}

export interface BatcherStats {
  queued: number;
  inFlight: number;
  lastBatchSize: number;
  failing: boolean;
  /** Messages refused unsent since the start, by reason. */
  refused: Record<RefusalReason, number>;
}

export class Batcher {
  private queue: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Ends the queue's head when its deadline passes; set whenever the queue holds a call. */
  private expiryTimer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private failingUntil = 0;
  private stopped = false;
  private lastBatchSize = 0;
  private readonly refused: Record<RefusalReason, number> = { queue_full: 0, kafka_unavailable: 0, stopped: 0, queue_timeout: 0 };
  private readonly backoffMs: number;
  private readonly resendPauseMs: number;
  private readonly maxConcurrent: number;
  private readonly idle = new Set<() => void>();
  /** Called once a batch ends, with how many of its messages Kafka confirmed (when any) and the time since its first attempt. */
  onBatch: ((size: number, ms: number) => void) | undefined;

  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly opts: BatcherOptions,
    private readonly log: Logger,
  ) {
    this.backoffMs = opts.backoffMs ?? 1000;
    this.resendPauseMs = opts.resendPauseMs ?? 100;
    this.maxConcurrent = opts.maxConcurrentSends ?? 4;
  }

  /**
   * Resolves once Kafka holds the message (acks=all). Rejects with
   * TELLER_ERR_PRODUCER_UNAVAILABLE when the message was not sent, and with
   * TELLER_ERR_PRODUCER_UNCONFIRMED when it was sent and not confirmed.
   * Settles within `sendTimeoutMs` (and a timer's lateness) either way.
   */
  send(msg: LogMessage, key: string | null, partition: number, headers?: Record<string, string>): Promise<void> {
    const refusal = this.refusal();
    if (refusal) {
      this.refused[refusal]++;
      return Promise.reject(unavailable(refusal));
    }
    return new Promise<void>((resolve, reject) => {
      const message: Waiting['message'] = { key, value: encodeMessage(msg), partition };
      if (headers) message.headers = headers;
      this.queue.push({ message, deadline: performance.now() + this.opts.sendTimeoutMs, resolve, reject });
      this.schedule();
      this.watchDeadlines();
    });
  }

  /** Why a message offered now would be refused unsent, if it would. */
  private refusal(): RefusalReason | undefined {
    if (this.stopped) return 'stopped';
    if (Date.now() < this.failingUntil) return 'kafka_unavailable';
    if (this.queue.length >= this.opts.queueMax) return 'queue_full';
    return undefined;
  }

  /** Messages waiting for a send now. */
  get queued(): number {
    return this.queue.length;
  }

  get failing(): boolean {
    return Date.now() < this.failingUntil;
  }

  stats(): BatcherStats {
    return { queued: this.queue.length, inFlight: this.inFlight, lastBatchSize: this.lastBatchSize, failing: this.failing, refused: { ...this.refused } };
  }

  /** Sends what is queued and waits for every send in flight. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 || this.inFlight > 0) {
      if (this.queue.length > 0 && this.inFlight < this.maxConcurrent) this.sendNext();
      else await new Promise<void>((r) => this.idle.add(r));
    }
  }

  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
  }

  private schedule(): void {
    if (this.queue.length >= this.opts.batchMax && this.inFlight < this.maxConcurrent) {
      this.sendNext();
      return;
    }
    if (!this.timer) this.timer = setTimeout(() => this.onLinger(), this.opts.lingerMs);
  }

  private onLinger(): void {
    this.timer = undefined;
    if (this.queue.length === 0) return;
    if (this.inFlight < this.maxConcurrent) this.sendNext();
    else this.timer = setTimeout(() => this.onLinger(), this.opts.lingerMs);
  }

  private sendNext(): void {
    this.dropExpired();
    const batch = this.queue.splice(0, this.opts.batchMax);
    if (this.queue.length === 0) this.stopWatchingDeadlines();
    if (batch.length === 0) return;
    this.inFlight++;
    const started = Date.now();
    void this.sendBatch(batch, started).finally(() => {
      this.inFlight--;
      for (const wake of this.idle) wake();
      this.idle.clear();
      if (this.queue.length > 0 && !this.timer) this.schedule();
    });
  }

  /**
   * Keeps a timer on the queue's head. Calls queue in the order of their
   * deadlines (taken in turn, each with the same time, by a clock that never
   * goes back), so the head's is the next to pass; a timer that finds the head
   * sent meanwhile sets itself again for the new head.
   */
  private watchDeadlines(): void {
    const head = this.queue[0];
    if (this.expiryTimer || !head) return;
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = undefined;
        this.dropExpired();
        this.watchDeadlines();
      },
      Math.max(0, head.deadline - performance.now()),
    );
  }

  private stopWatchingDeadlines(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  /**
   * Refuses the queued calls whose deadline has passed: their callers are
   * answered by then, and nothing of theirs was sent, so `unavailable` is
   * true and the api releases their ids. They lead the queue (see above).
   */
  private dropExpired(): void {
    const now = performance.now();
    let expired = 0;
    while (expired < this.queue.length && this.queue[expired]!.deadline <= now) expired++;
    if (expired === 0) return;
    const error = unavailable('queue_timeout');
    for (const waiting of this.queue.splice(0, expired)) waiting.reject(error);
    this.refused.queue_timeout += expired;
    // Counted (teller_producer_refused_total), not logged one by one: in a stall they come by the thousand.
    if (this.queue.length === 0) this.stopWatchingDeadlines();
  }

  private async sendBatch(batch: Waiting[], started: number): Promise<void> {
    const end = await sendWithinBudget(this.producer, batch, { topic: this.opts.topic, pauseMs: this.resendPauseMs });
    if (end.confirmed > 0) {
      this.lastBatchSize = end.confirmed;
      this.onBatch?.(end.confirmed, Date.now() - started);
    }
    if (end.attempts > 1) this.log.info({ attempts: end.attempts, size: batch.length, confirmed: end.confirmed }, 'kafka send needed re-sends');
    if (end.confirmed === batch.length) return;
    // Only a batch that failed for good (its budget spent, or no connection to Kafka) refuses new
    // calls: a failure that a re-send recovered from failed no call, and refusing for it would.
    this.failingUntil = Date.now() + this.backoffMs;
    this.log.warn({ err: end.failure, size: batch.length, unconfirmed: batch.length - end.confirmed, attempts: end.attempts }, 'kafka send failed; refusing new calls for a while');
  }
}

// Turns accepted requests into batched Kafka sends: requests queue for a few
// ms (or until a batch fills) and go out in one acks=all send: a send per
// request costs Kafka a round trip each (docs/kafka-contract.md). The queue is bounded,
// and while Kafka is failing every call is refused at once: a client gets a
// fast 503 it can retry with the same id, rather than a slow one.
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { createError, hasCode, TELLER_ERR_PRODUCER_UNAVAILABLE, TELLER_ERR_PRODUCER_UNCONFIRMED, type TellerError } from '../common/errors.js';
import { encodeMessage } from '../common/message.js';
import type { LogMessage } from '../common/types.js';
import { sendConfirmed, type PartitionedRecord } from '../common/confirmed-send.js';

/** Why the batcher refused a message without sending it. */
export type RefusalReason = 'queue_full' | 'kafka_unavailable' | 'stopped';

function unavailable(reason: RefusalReason): TellerError {
  return createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason });
}

export interface BatcherOptions {
  topic: string;
  lingerMs: number;
  batchMax: number;
  queueMax: number;
  sendTimeoutMs: number;
  /** How long after a failed send new calls are refused at once. */
  backoffMs?: number;
  maxConcurrentSends?: number;
}

interface Pending {
  message: PartitionedRecord['messages'][number];
  resolve: () => void;
  reject: (err: Error) => void;
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
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private failingUntil = 0;
  private stopped = false;
  private lastBatchSize = 0;
  private readonly refused: Record<RefusalReason, number> = { queue_full: 0, kafka_unavailable: 0, stopped: 0 };
  private readonly backoffMs: number;
  private readonly maxConcurrent: number;
  private readonly idle = new Set<() => void>();
  /** Called with each batch's size once Kafka acknowledged it. */
  onBatch: ((size: number, ms: number) => void) | undefined;

  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly opts: BatcherOptions,
    private readonly log: Logger,
  ) {
    this.backoffMs = opts.backoffMs ?? 1000;
    this.maxConcurrent = opts.maxConcurrentSends ?? 4;
  }

  /**
   * Resolves once Kafka holds the message (acks=all). Rejects with
   * TELLER_ERR_PRODUCER_UNAVAILABLE when the message was not sent, and with
   * TELLER_ERR_PRODUCER_UNCONFIRMED when it was sent and not confirmed.
   */
  send(msg: LogMessage, key: string | null, partition: number, headers?: Record<string, string>): Promise<void> {
    const refusal = this.refusal();
    if (refusal) {
      this.refused[refusal]++;
      return Promise.reject(unavailable(refusal));
    }
    return new Promise<void>((resolve, reject) => {
      const message: Pending['message'] = { key, value: encodeMessage(msg), partition };
      if (headers) message.headers = headers;
      this.queue.push({ message, resolve, reject });
      this.schedule();
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
    const batch = this.queue.splice(0, this.opts.batchMax);
    this.inFlight++;
    const started = Date.now();
    void this.sendBatch(batch, started).finally(() => {
      this.inFlight--;
      for (const wake of this.idle) wake();
      this.idle.clear();
      if (this.queue.length > 0 && !this.timer) this.schedule();
    });
  }

  private async sendBatch(batch: Pending[], started: number): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    try {
      const sent = sendConfirmed(this.producer, { topic: this.opts.topic, acks: -1, messages: batch.map((p) => p.message) });
      const timedOut = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => reject(new Error(`send timed out after ${this.opts.sendTimeoutMs} ms`)), this.opts.sendTimeoutMs);
      });
      await Promise.race([sent, timedOut]);
      this.lastBatchSize = batch.length;
      for (const p of batch) p.resolve();
      this.onBatch?.(batch.length, Date.now() - started);
    } catch (err) {
      this.failingUntil = Date.now() + this.backoffMs;
      this.log.warn({ err, size: batch.length }, 'kafka send failed; refusing new calls for a while');
      // Refused before sending (no connection to Kafka): nothing was written. Any other failure,
      // a timeout above all, leaves the send going on, and Kafka may still write the batch.
      const failure = hasCode(err, TELLER_ERR_PRODUCER_UNAVAILABLE.code)
        ? unavailable('kafka_unavailable')
        : createError(TELLER_ERR_PRODUCER_UNCONFIRMED, { reason: (err as Error).message });
      for (const p of batch) p.reject(failure);
    } finally {
      clearTimeout(timeout);
    }
  }
}

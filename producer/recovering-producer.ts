// A kafkajs producer that replaces itself when the broker refuses its
// sequence numbers (the api runs a plain acks=all producer, see api/main.ts;
// this guards the idempotent mode should it be turned on again). After the broker restarts while a send is in flight
// (or a send we gave up on is retried behind our back), the broker and the
// producer can disagree about the next sequence number: every later send then
// fails with OUT_OF_ORDER_SEQUENCE_NUMBER (or UNKNOWN_PRODUCER_ID), for ever.
// A new producer gets a new producer id and starts its sequences again. The
// sends that failed were refused, never half-written, so the callers' 503
// (retry with the same id) stays true.
//
// A send made while no producer is connected (a replica that listens before
// Kafka answers, or a replacement under way) waits for the connection rather
// than failing at once, for a bounded time: a replica that NGINX routes to as
// soon as it listens does not answer its first calls 503. The bound is below
// the batcher's send timeout (PRODUCER_SEND_TIMEOUT_MS, 2 s at least by
// default), so a batch's first send goes out, or is refused unsent, before its
// callers are told anything. A re-send of the batch (producer/batch-attempts.ts)
// may wait past that timeout; its callers were then told `unconfirmed`, which
// allows for Kafka writing their messages later.
import type { Producer, ProducerRecord, RecordMetadata } from 'kafkajs';
import type { Logger } from 'pino';
import { createError, TELLER_ERR_PRODUCER_UNAVAILABLE } from '../common/errors.js';
import { retry } from '../common/retry.js';

const FATAL = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

/** Whether `err` (or what it wraps) leaves the idempotent producer unusable. */
export function needsNewProducer(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.type !== undefined && FATAL.has(e.type)) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

export class RecoveringProducer {
  private producer: Producer;
  private replacing: Promise<void> | undefined;
  private closed = false;
  private connected = false;
  private readonly waiting = new Set<() => void>();
  /** How many times the producer was replaced (logs, metrics). */
  replaced = 0;

  constructor(
    private readonly create: () => Producer,
    private readonly log: Logger,
    private readonly connectWaitMs = 1500,
  ) {
    this.producer = create();
  }

  async connect(): Promise<void> {
    const p = this.producer;
    await p.connect();
    if (p === this.producer) this.markConnected();
  }

  private markConnected(): void {
    this.connected = true;
    for (const wake of this.waiting) wake();
    this.waiting.clear();
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    await this.replacing;
    await this.producer.disconnect();
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (!this.connected) await this.untilConnected();
    const used = this.producer;
    try {
      return await used.send(record);
    } catch (err) {
      if (used === this.producer && needsNewProducer(err)) this.replace((err as Error).message);
      throw err;
    }
  }

  private untilConnected(): Promise<void> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.delete(wake);
        reject(createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: `no connection to Kafka within ${this.connectWaitMs} ms` }));
      }, this.connectWaitMs);
      this.waiting.add(wake);
    });
  }

  /** Swaps in a new producer at once (sends wait until it is connected) and connects it. */
  private replace(reason: string): void {
    if (this.replacing || this.closed) return;
    const old = this.producer;
    this.producer = this.create();
    this.connected = false;
    this.replaced++;
    this.log.warn({ reason, replaced: this.replaced }, 'the broker refused the producer sequence; replacing the producer');
    const fresh = this.producer;
    this.replacing = (async () => {
      await old.disconnect().catch(() => undefined);
      await this.connectReplacement(fresh);
    })().finally(() => {
      this.replacing = undefined;
    });
  }

  /** Connects `fresh` until it answers, unless the producer is closed or replaced again meanwhile. */
  private async connectReplacement(fresh: Producer): Promise<void> {
    const wanted = () => !this.closed && fresh === this.producer;
    await retry(
      async () => {
        // Checked before every try, the first included, as the wait before it may have outlived the need.
        if (!wanted()) return;
        await fresh.connect();
        if (fresh === this.producer) this.markConnected();
      },
      {
        what: 'connect the new producer',
        firstDelayMs: 100,
        maxDelayMs: 2000,
        stop: () => !wanted(),
        onFailure: ({ err, retryInMs }) => this.log.warn({ err: (err as Error).message, retryInMs }, 'new producer not connected yet'),
      },
    ).catch(() => {
      // retry() gives up only once `stop()` says so (connect's errors are not Teller's, so all
      // retryable): the producer was closed or replaced again, and its failure concerns nobody.
    });
  }
}

// An idempotent kafkajs producer that replaces itself when the broker refuses
// its sequence numbers. After the broker restarts while a send is in flight
// (or a send we gave up on is retried behind our back), the broker and the
// producer can disagree about the next sequence number: every later send then
// fails with OUT_OF_ORDER_SEQUENCE_NUMBER (or UNKNOWN_PRODUCER_ID), for ever.
// A new producer gets a new producer id and starts its sequences again. The
// sends that failed were refused, never half-written, so the callers' 503
// (retry with the same id) stays true.
import type { Producer, ProducerRecord, RecordMetadata } from 'kafkajs';
import type { Logger } from 'pino';

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
  /** How many times the producer was replaced (logs, metrics). */
  replaced = 0;

  constructor(
    private readonly create: () => Producer,
    private readonly log: Logger,
  ) {
    this.producer = create();
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    await this.replacing;
    await this.producer.disconnect();
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const used = this.producer;
    try {
      return await used.send(record);
    } catch (err) {
      if (used === this.producer && needsNewProducer(err)) this.replace((err as Error).message);
      throw err;
    }
  }

  /** Swaps in a new producer at once (sends fail fast until it is connected) and connects it. */
  private replace(reason: string): void {
    if (this.replacing || this.closed) return;
    const old = this.producer;
    this.producer = this.create();
    this.replaced++;
    this.log.warn({ reason, replaced: this.replaced }, 'the broker refused the producer sequence; replacing the producer');
    const fresh = this.producer;
    this.replacing = (async () => {
      await old.disconnect().catch(() => undefined);
      for (let delay = 100; !this.closed && fresh === this.producer; delay = Math.min(delay * 2, 2000)) {
        try {
          await fresh.connect();
          return;
        } catch (err) {
          this.log.warn({ err: (err as Error).message, retryInMs: delay }, 'new producer not connected yet');
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })().finally(() => {
      this.replacing = undefined;
    });
  }
}

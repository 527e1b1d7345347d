// Publishing a batch's ledger documents as events (common/events.ts,
// docs/events.md). Each event is keyed by its account and goes to
// partitionOf(accountId) of the events topic, which has as many partitions as
// the transaction topic: an account's events land in one partition, in the
// order its owner decided them. The batch path publishes them before it
// commits the batch's offset, so a batch decided again after a crash publishes
// them again, under the same event ids.
import type { Producer } from 'kafkajs';
import { eventOf } from '../common/events.js';
import { partitionOf } from '../common/message.js';
import type { LedgerDoc } from '../common/types.js';
import { sendConfirmed } from '../common/confirmed-send.js';

/**
 * The most bytes of values one send carries. A batch's events all go to one
 * partition (its accounts share the partition function and count), and the
 * broker refuses a record batch over its `message.max.bytes` (1 MB by
 * default), which a large batch's events would pass.
 */
export const MAX_SEND_BYTES = 512 * 1024;

interface EncodedEvent {
  key: string;
  value: Buffer;
  partition: number;
}

export class EventPublisher {
  /** Told how many events each send published (metrics). */
  onPublished: ((events: number) => void) | undefined;

  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly topic: string,
    /** The events topic's partition count: the transaction topic's (KAFKA_PARTITIONS). */
    private readonly partitions: number,
    private readonly maxSendBytes = MAX_SEND_BYTES,
  ) {}

  /**
   * Publishes the events of `docs`, in order, and resolves once every broker
   * took them (acks=all). Sends go one after another; a failure rejects, and
   * the caller publishes the whole batch again (a subscriber deduplicates).
   */
  async publish(docs: readonly LedgerDoc[]): Promise<void> {
    for (const messages of chunks(docs.map((doc) => this.encode(doc)), this.maxSendBytes)) {
      await sendConfirmed(this.producer, { topic: this.topic, acks: -1, messages });
      this.onPublished?.(messages.length);
    }
  }

  private encode(doc: LedgerDoc): EncodedEvent {
    const event = eventOf(doc);
    return { key: event.accountId, value: Buffer.from(JSON.stringify(event)), partition: partitionOf(event.accountId, this.partitions) };
  }
}

/** `events` in order, cut into runs of at most `maxBytes` of values (an event larger than that goes alone). */
function chunks(events: EncodedEvent[], maxBytes: number): EncodedEvent[][] {
  const out: EncodedEvent[][] = [];
  let current: EncodedEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    if (current.length > 0 && bytes + event.value.length > maxBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += event.value.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

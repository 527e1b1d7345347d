// Publishing the messages an owner mints while it decides a batch: the cancels
// of requests approved after their callers were answered (consumer/late-cancel.ts),
// the credits of applied transfers and the returns of refused credits
// (docs/transfers.md). They are published before the batch's offset is
// committed: a crash before the commit decides the batch again, which mints
// the same messages with the same ids and bodies, and their owners answer the
// second copies as repeats. Each goes to its own account's partition, by the
// same partitioner the api uses, so it lands after every earlier message of
// that account.
import type { Producer } from 'kafkajs';
import { encodeMessage, partitionOf } from '../common/message.js';
import type { TxMessage } from '../common/types.js';
import { sendConfirmed } from '../common/confirmed-send.js';

export class MintedPublisher {
  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly topic: string,
    /** The transaction topic's partition count (KAFKA_PARTITIONS), which the consumer checks at start. */
    private readonly partitions: number,
  ) {}

  /** Publishes `messages` keyed by account, in order, and resolves once every broker took them (acks=all). */
  async publish(messages: readonly TxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await sendConfirmed(this.producer, {
      topic: this.topic,
      acks: -1,
      messages: messages.map((message) => ({
        key: message.accountId,
        value: encodeMessage(message),
        partition: partitionOf(message.accountId, this.partitions),
      })),
    });
  }
}

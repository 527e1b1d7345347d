// Records that do not parse or break the schema go to the dead-letter topic,
// with the reason and their origin in headers, and the partition moves on.
import type { Producer } from 'kafkajs';
import type { DeadLetter } from './batch-decision.js';

export class DeadLetterPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async publish(sourceTopic: string, partition: number, letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: letters.map(({ record, reason }) => ({
        key: record.key,
        value: record.value,
        headers: {
          'teller-dlq-reason': reason,
          'teller-dlq-topic': sourceTopic,
          'teller-dlq-partition': String(partition),
          'teller-dlq-offset': record.offset,
        },
      })),
    });
  }
}

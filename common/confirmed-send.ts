// A send to Kafka that is confirmed for every partition it names, or fails.
//
// kafkajs 2.2 (src/producer/sendMessages.js) sends one request per partition
// leader and, when some of them fail, retries only the brokers that have not
// answered yet: a broker that answered for its own partitions is skipped on
// the retry. When a failed partition's leadership has meanwhile moved to such
// a broker (a leader killed or stalled in a replicated cluster), its messages
// go in no request at all, and `send` still resolves. Teller's callers treat
// a resolved send as written (the api answers its calls, an owner commits its
// batch), so they would acknowledge what Kafka never took.
//
// kafkajs answers one entry for each partition it got a response for, so a
// partition named by a message and absent from the answer is one that was
// dropped: such a send is a failure, and its caller does what it does with any
// unconfirmed send (the api's batcher sends the unconfirmed partitions'
// messages again while its time lasts, then answers 503 and the client
// retries with the same id; a publisher of an owner retries the whole publish,
// whose messages are deduplicated downstream).
import type { Message, Producer, ProducerRecord, RecordMetadata } from 'kafkajs';

/** A record whose every message names its partition: the only kind whose confirmation can be checked. */
export interface PartitionedRecord extends ProducerRecord {
  messages: (Message & { partition: number })[];
}

/** Thrown when Kafka confirmed the send for some of its partitions only. */
export class UnconfirmedPartitionsError extends Error {
  constructor(
    readonly topic: string,
    readonly partitions: number[],
  ) {
    super(`kafka confirmed no write to ${topic} partition(s) ${partitions.join(', ')} of the send`);
    this.name = 'UnconfirmedPartitionsError';
  }
}

/** The partitions `record` names that `answer` does not confirm (with no error code). */
export function unconfirmedPartitions(record: PartitionedRecord, answer: RecordMetadata[]): number[] {
  const confirmed = new Set(answer.filter((m) => m.topicName === record.topic && m.errorCode === 0).map((m) => m.partition));
  const named = new Set(record.messages.map((m) => m.partition));
  return [...named].filter((p) => !confirmed.has(p)).sort((a, b) => a - b);
}

/** Sends `record`; rejects with UnconfirmedPartitionsError when Kafka's answer leaves out a partition the record names. */
export async function sendConfirmed(producer: Pick<Producer, 'send'>, record: PartitionedRecord): Promise<RecordMetadata[]> {
  const answer = await producer.send(record);
  const missing = unconfirmedPartitions(record, answer);
  if (missing.length > 0) throw new UnconfirmedPartitionsError(record.topic, missing);
  return answer;
}

// What kafkajs's `send` resolves with when the broker took every message: one
// entry per partition the record names (common/confirmed-send.ts checks it).
import type { RecordMetadata } from 'kafkajs';

export function confirmedAnswer(record: { topic: string; messages: { partition?: number }[] }): RecordMetadata[] {
  const partitions = [...new Set(record.messages.map((m) => m.partition ?? 0))];
  return partitions.map((partition) => ({ topicName: record.topic, partition, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' }));
}

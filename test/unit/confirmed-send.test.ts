// A send is confirmed for every partition it names, or fails (common/confirmed-send.ts):
// kafkajs 2.2 can resolve a send whose partition moved to a broker that had
// already answered, having sent that partition's messages nowhere.
import t from 'tap';
import type { RecordMetadata } from 'kafkajs';
import { sendConfirmed, unconfirmedPartitions, UnconfirmedPartitionsError, type PartitionedRecord } from '../../common/confirmed-send.js';
import { Batcher } from '../../producer/batcher.js';
import { pino } from 'pino';
import { confirmedAnswer } from '../helpers/kafka-answers.js';

const record: PartitionedRecord = {
  topic: 'teller.transactions',
  acks: -1,
  messages: [
    { key: 'a', value: 'x', partition: 2 },
    { key: 'b', value: 'y', partition: 4 },
    { key: 'c', value: 'z', partition: 2 },
  ],
};

/** What kafkajs resolves with after the retry that skipped partition 4's new leader: partition 2's answer only. */
const droppedFour: RecordMetadata[] = confirmedAnswer({ topic: record.topic, messages: [{ partition: 2 }] });

t.test('the partitions a record names and the answer does not confirm', async (t) => {
  t.same(unconfirmedPartitions(record, confirmedAnswer(record)), [], 'every partition answered');
  t.same(unconfirmedPartitions(record, droppedFour), [4], 'partition 4 left out');
  t.same(unconfirmedPartitions(record, [{ ...droppedFour[0]!, partition: 4, errorCode: 0, topicName: 'another.topic' }, ...droppedFour]), [4], "another topic's answer confirms nothing here");
  t.same(unconfirmedPartitions(record, [...droppedFour, { ...droppedFour[0]!, partition: 4, errorCode: 6 }]), [4], 'an answer with an error code confirms nothing');
});

t.test('a send Kafka confirmed in part rejects, naming what it left out', async (t) => {
  await t.resolves(sendConfirmed({ send: async () => confirmedAnswer(record) }, record));
  await t.rejects(sendConfirmed({ send: async () => droppedFour }, record), new UnconfirmedPartitionsError(record.topic, [4]));
});

t.test("the api's batcher answers a call whose partition Kafka never confirms as unconfirmed (503), not as written", async (t) => {
  const producer = { send: async () => droppedFour };
  const options = { topic: record.topic, lingerMs: 0, batchMax: 10, queueMax: 10, sendTimeoutMs: 300, resendPauseMs: 20, maxConcurrentSends: 1 };
  const batcher = new Batcher(producer as never, options, pino({ level: 'silent' }));
  const deposit = (id: string, accountId: string) => ({ v: 1 as const, id, type: 'deposit' as const, accountId, amount: 1, receivedAt: 1 });
  const [onTwo, onFour] = await Promise.allSettled([batcher.send(deposit('d1', 'a'), 'a', 2), batcher.send(deposit('d2', 'b'), 'b', 4)]);
  t.equal(onTwo!.status, 'fulfilled', 'the call on the partition Kafka confirmed is answered as written');
  t.equal(onFour!.status, 'rejected', 'the call on the partition it left out, re-sent until the budget is spent, is not');
  if (onFour!.status === 'rejected') t.equal((onFour!.reason as { code?: string }).code, 'TELLER_ERR_PRODUCER_UNCONFIRMED');
});

// The minted messages go to their own account's partition, by the api's partitioner, all acknowledged.
import t from 'tap';
import { partitionOf, parseMessage } from '../../common/message.js';
import type { TxMessage } from '../../common/types.js';
import { MintedPublisher } from '../../consumer/minted-publisher.js';
import { confirmedAnswer } from '../helpers/kafka-answers.js';

interface Sent {
  topic: string;
  acks?: number;
  messages: { key: string; value: Buffer; partition: number }[];
}

function recordingProducer(sent: Sent[]) {
  return {
    send: async (record: Sent) => {
      sent.push(record);
      return confirmedAnswer(record);
    },
  };
}

const credit = (accountId: string, id: string): TxMessage => ({
  v: 1,
  id,
  type: 'transfer_credit',
  accountId,
  amount: 5,
  counterparty: 'payer',
  transferId: 't1',
  receivedAt: 1,
});

t.test('each message goes to the partition of its account, keyed by it, with acks from all replicas', async (t) => {
  const sent: Sent[] = [];
  const publisher = new MintedPublisher(recordingProducer(sent) as never, 'teller.tx', 12);
  const messages = ['alice', 'bob', 'carol', 'dave'].map((account, n) => credit(account, `t1~credit~payer~${n}`));
  await publisher.publish(messages);
  t.equal(sent.length, 1, 'one send for the batch');
  t.equal(sent[0]!.topic, 'teller.tx');
  t.equal(sent[0]!.acks, -1);
  t.same(
    sent[0]!.messages.map((m) => [m.key, m.partition]),
    messages.map((m) => [m.accountId, partitionOf(m.accountId, 12)]),
    'in order, each to its account partition',
  );
  const parsed = sent[0]!.messages.map((m) => parseMessage(m.value));
  t.ok(parsed.every((p) => p.ok), 'every message passes the schema the consumers validate with');
  t.ok(new Set(sent[0]!.messages.map((m) => m.partition)).size > 1, 'the accounts chosen span partitions');
});

t.test('nothing to publish sends nothing', async (t) => {
  const sent: Sent[] = [];
  await new MintedPublisher(recordingProducer(sent) as never, 'teller.tx', 12).publish([]);
  t.same(sent, []);
});

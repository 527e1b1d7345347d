// The events of a batch go to the events topic keyed by account, each to its
// account's partition by the transaction topic's function, acknowledged by
// every replica, in order, in sends the broker takes whole.
import t from 'tap';
import { eventOf, ledgerEventProblem, type LedgerEvent } from '../../common/events.js';
import { partitionOf } from '../../common/message.js';
import type { LedgerDoc } from '../../common/types.js';
import { EventPublisher } from '../../consumer/event-publisher.js';
import { confirmedAnswer } from '../helpers/kafka-answers.js';

interface Sent {
  topic: string;
  acks?: number;
  messages: { key: string; value: Buffer; partition: number }[];
}

function recordingProducer(sent: Sent[], failures = 0) {
  let failuresLeft = failures;
  return {
    send: async (record: Sent) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('broker away');
      }
      sent.push(record);
      return confirmedAnswer(record);
    },
  };
}

const doc = (accountId: string, offset: number): LedgerDoc => ({
  _id: `2:${offset}`,
  id: `d${offset}`,
  accountId,
  type: 'deposit',
  amount: 10,
  status: 'applied',
  balanceAfter: 10 * (offset + 1),
  reservedAfter: 0,
  partition: 2,
  offset,
  receivedAt: 1_700_000_000_000 + offset,
  decidedAt: 1_700_000_000_500 + offset,
});

const decoded = (sent: Sent[]): LedgerEvent[] => sent.flatMap((send) => send.messages.map((m) => JSON.parse(m.value.toString()) as LedgerEvent));

t.test('each event goes to its account partition, keyed by the account, with acks from all replicas', async (t) => {
  const sent: Sent[] = [];
  const publisher = new EventPublisher(recordingProducer(sent), 'teller.events', 12);
  const docs = ['alice', 'bob', 'carol', 'dave'].map((account, n) => doc(account, n));
  await publisher.publish(docs);
  t.equal(sent.length, 1, 'one send for a small batch');
  t.equal(sent[0]!.topic, 'teller.events');
  t.equal(sent[0]!.acks, -1);
  t.strictSame(
    sent[0]!.messages.map((m) => [m.key, m.partition]),
    docs.map((d) => [d.accountId, partitionOf(d.accountId, 12)]),
    'in order, each to its account partition',
  );
  t.ok(new Set(sent[0]!.messages.map((m) => m.partition)).size > 1, 'the accounts chosen span partitions');
  t.strictSame(decoded(sent), docs.map(eventOf), 'the values are the events of the documents');
  t.ok(decoded(sent).every((event) => ledgerEventProblem(event) === undefined), 'every value conforms to the schema');
});

t.test('a large batch goes in several sends, in order, none past the bound', async (t) => {
  const sent: Sent[] = [];
  const counted: number[] = [];
  const publisher = new EventPublisher(recordingProducer(sent), 'teller.events', 6, 2_000);
  publisher.onPublished = (count) => counted.push(count);
  const docs = Array.from({ length: 40 }, (_, n) => doc('alice', n));
  await publisher.publish(docs);
  t.ok(sent.length > 1, `${sent.length} sends`);
  for (const send of sent) t.ok(send.messages.reduce((bytes, m) => bytes + m.value.length, 0) <= 2_000, 'within the bound');
  t.strictSame(
    decoded(sent).map((event) => event.eventId),
    docs.map((d) => d._id),
    'every event once, in log order',
  );
  t.strictSame(counted, sent.map((send) => send.messages.length), 'each send counted once the broker took it');
});

t.test('a failed send rejects, and counts nothing', async (t) => {
  const sent: Sent[] = [];
  const counted: number[] = [];
  const publisher = new EventPublisher(recordingProducer(sent, 1), 'teller.events', 6);
  publisher.onPublished = (count) => counted.push(count);
  await t.rejects(publisher.publish([doc('alice', 0)]), /broker away/);
  t.strictSame([sent, counted], [[], []]);
  await publisher.publish([doc('alice', 0)]);
  t.strictSame(decoded(sent).map((event) => event.eventId), ['2:0'], 'published again, under the same id');
});

t.test('nothing to publish sends nothing', async (t) => {
  const sent: Sent[] = [];
  await new EventPublisher(recordingProducer(sent), 'teller.events', 6).publish([]);
  t.strictSame(sent, []);
});

// The ledger events on the real stack (docs/events.md): calls through NGINX
// (a deposit, a withdrawal request, a transfer across partitions), then the
// events topic read from its beginning by a kafkajs consumer of its own
// group, for as long as it takes the events of those calls to come (bounded).
// Each event has its type and the balances after it, its id is its ledger
// document's `_id` (read through the mongodb driver), it is keyed and placed
// by its account, and an account's events come in log order.
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { LEDGER_EVENT_SCHEMA, ledgerEventProblem, type LedgerEvent } from '../../common/events.js';
import { partitionOf } from '../../common/message.js';
import type { LedgerDoc } from '../../common/types.js';
import { get, uniq } from '../helpers/http.js';
import { config, readStack, topicPartitions, waitFor } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

const stack = readStack();
const mongo = await MongoClient.connect(stack.mongoUri);
const ledger = mongo.db(config.mongoDb).collection<LedgerDoc>('transactions');
const kafka = new Kafka({ clientId: 'teller-tests', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
t.teardown(() => mongo.close());

interface Received {
  event: LedgerEvent;
  key: string | undefined;
  partition: number;
}

/** Two fresh accounts in different partitions, so the transfer's credit crosses the log. */
async function accountPair(partitions: number): Promise<[string, string]> {
  const from = uniq('events-a');
  for (let n = 0; n < 10_000; n++) {
    const to = `${uniq('events')}-b${n}`;
    if (partitionOf(from, partitions) !== partitionOf(to, partitions)) return [from, to];
  }
  throw new Error('no account pair found');
}

/**
 * Reads the events topic from its beginning until `done` holds for what was
 * received of `accounts` (every copy, in the order each partition gave them),
 * or the deadline passes.
 */
async function readEvents(accounts: Set<string>, done: (received: Received[]) => boolean, timeoutMs = 60_000): Promise<Received[]> {
  const received: Received[] = [];
  const consumer = kafka.consumer({ groupId: uniq('events-reader'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: config.eventsTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const event = JSON.parse(message.value?.toString('utf8') ?? 'null') as LedgerEvent;
        if (accounts.has(event.accountId)) received.push({ event, key: message.key?.toString(), partition });
      },
    });
    await waitFor(async () => done(received) || undefined, { timeoutMs, intervalMs: 250, what: 'the events of the calls on the events topic' });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** The first copy of each event, in the order received: what a subscriber deduplicating by eventId keeps. */
function firstCopies(received: Received[]): Received[] {
  const seen = new Set<string>();
  return received.filter(({ event }) => !seen.has(event.eventId) && Boolean(seen.add(event.eventId)));
}

t.test('the schema is served through NGINX, without a key', async (t) => {
  const r = await get('/events.schema.json');
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type'), /^application\/schema\+json/);
  t.same(r.body, LEDGER_EVENT_SCHEMA);
});

t.test('a deposit, a withdrawal request and a transfer: their events, with the ids and balances of the ledger, in order', async (t) => {
  const partitions = await topicPartitions();
  const [alice, bob] = await accountPair(partitions);
  const ids = { deposit: uniq('d'), request: uniq('r'), transfer: uniq('t') };
  t.equal((await v1.deposit(alice, { id: ids.deposit, amount: 100 })).status, 200);
  t.equal((await v1.request(alice, { id: ids.request, amount: 30 })).status, 201);
  const transfer = await v1.transfer({ id: ids.transfer, from: alice, to: bob, amount: 20 });
  t.ok([200, 201].includes(transfer.status), `the transfer answered: ${transfer.status} ${JSON.stringify(transfer.body)}`);
  t.match(transfer.body, { status: 'completed' }, 'after both legs');

  const expected = 4;
  const received = await readEvents(new Set([alice, bob]), (got) => firstCopies(got).length >= expected);
  const events = firstCopies(received).map(({ event }) => event);
  const of = (account: string) => events.filter((event) => event.accountId === account);

  t.same(
    of(alice).map((event) => [event.type, event.transactionId, event.amount, event.balance, event.reserved]),
    [
      ['deposit.applied', ids.deposit, 100, 100, 0],
      ['withdrawal_request.approved', ids.request, 30, 100, 30],
      ['transfer.debited', ids.transfer, 20, 80, 30],
    ],
    "alice's events, in the order of her calls, with her balances after each",
  );
  t.same(
    of(bob).map((event) => [event.type, event.transferId, event.counterparty, event.amount, event.balance, event.reserved]),
    [['transfer.credited', ids.transfer, alice, 20, 20, 0]],
    "bob's credit",
  );
  t.match(of(alice)[2], { counterparty: bob });

  for (const event of events) t.equal(ledgerEventProblem(event), undefined, `${event.type} conforms to the schema`);
  for (const { event, key, partition } of received) {
    t.equal(key, event.accountId, 'keyed by its account');
    t.equal(partition, partitionOf(event.accountId, partitions), "in its account's partition");
  }
  for (const account of [alice, bob]) {
    const offsets = of(account).map((event) => event.offset);
    t.same(offsets, [...offsets].sort((x, y) => x - y), `${account}'s events in log order`);
  }

  // Inserted beside the publish: wait until the ledger holds every document of the two accounts.
  const docs = await waitFor(
    async () => {
      const found = await ledger.find({ accountId: { $in: [alice, bob] } }).sort({ partition: 1, offset: 1 }).toArray();
      return found.length >= expected ? found : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: 'the ledger documents of the calls' },
  );
  t.same(
    new Set(events.map((event) => event.eventId)),
    new Set(docs.map((doc) => doc._id)),
    "the events' ids are the ledger documents' _ids, one event a document",
  );
  for (const doc of docs) {
    const event = events.find((candidate) => candidate.eventId === doc._id);
    t.match(event, { transactionId: doc.id, balance: doc.balanceAfter, reserved: doc.reservedAfter, partition: doc.partition, offset: doc.offset }, `${doc.id}: as its document says`);
  }
});

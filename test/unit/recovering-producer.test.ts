// The api's producer replaces itself when the broker refuses its sequence
// numbers, and only then; the failed send still fails (its callers answer 503).
import t from 'tap';
import { pino } from 'pino';
import type { Producer } from 'kafkajs';
import { needsNewProducer, RecoveringProducer } from '../../producer/recovering-producer.js';

const log = pino({ level: 'silent' });
const protocolError = (type: string) => Object.assign(new Error(type), { type });

function fake(fail?: Error) {
  const calls = { connect: 0, disconnect: 0, send: 0 };
  const producer = {
    connect: async () => void calls.connect++,
    disconnect: async () => void calls.disconnect++,
    send: async () => {
      calls.send++;
      if (fail) throw fail;
      return [];
    },
  };
  return { producer: producer as unknown as Producer, calls };
}

t.test('which errors need a new producer', async (t) => {
  t.ok(needsNewProducer(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER')));
  t.ok(needsNewProducer(protocolError('UNKNOWN_PRODUCER_ID')));
  t.ok(needsNewProducer(Object.assign(new Error('retries exceeded'), { cause: protocolError('INVALID_PRODUCER_EPOCH') })), 'wrapped');
  t.notOk(needsNewProducer(protocolError('REQUEST_TIMED_OUT')));
  t.notOk(needsNewProducer(new Error('send timed out after 2000 ms')));
  t.notOk(needsNewProducer(undefined));
});

t.test('a refused sequence replaces the producer; other errors do not', async (t) => {
  const made = [fake(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER')), fake(), fake()];
  let i = 0;
  const p = new RecoveringProducer(() => made[i++]!.producer, log);
  await p.connect();
  await t.rejects(p.send({ topic: 'x', messages: [] }), /OUT_OF_ORDER/, 'the failed send still fails');
  await new Promise((r) => setTimeout(r, 20));
  t.equal(p.replaced, 1);
  t.equal(made[0]!.calls.disconnect, 1, 'the old producer is closed');
  t.equal(made[1]!.calls.connect, 1, 'the new one connected');
  await t.resolves(p.send({ topic: 'x', messages: [] }), 'later sends go to the new producer');
  t.equal(made[1]!.calls.send, 1);
  await p.disconnect();
  t.equal(made[1]!.calls.disconnect, 1);

  const timeouts = fake(new Error('send timed out'));
  const q = new RecoveringProducer(() => timeouts.producer, log);
  await q.connect();
  await t.rejects(q.send({ topic: 'x', messages: [] }));
  t.equal(q.replaced, 0, 'a timeout keeps the producer');
});

t.test('a send before the connection waits for it, for a bounded time', async (t) => {
  const f = fake();
  const p = new RecoveringProducer(() => f.producer, log, 200);
  const early = p.send({ topic: 'x', messages: [] });
  await new Promise((r) => setTimeout(r, 50));
  t.equal(f.calls.send, 0, 'nothing sent before the connection');
  await p.connect();
  await t.resolves(early, 'sent once connected');
  t.equal(f.calls.send, 1);

  const g = fake();
  const never = new RecoveringProducer(() => g.producer, log, 100);
  await t.rejects(never.send({ topic: 'x', messages: [] }), /no connection to Kafka within 100 ms/);
  await never.connect();
  await new Promise((r) => setTimeout(r, 20));
  t.equal(g.calls.send, 0, 'a send that gave up is never made later');
});

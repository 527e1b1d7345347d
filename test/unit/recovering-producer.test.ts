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
  await t.rejects(q.send({ topic: 'x', messages: [] }));
  t.equal(q.replaced, 0, 'a timeout keeps the producer');
});

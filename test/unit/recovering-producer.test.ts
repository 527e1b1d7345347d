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

t.test('a replacement that cannot connect is tried again with backoff, until closed', async (t) => {
  const warnings: unknown[] = [];
  const logged = { warn: (fields: { retryInMs?: number }, message: string) => warnings.push([message, fields.retryInMs]) } as unknown as typeof log;
  let refusals = 2;
  const flaky = fake();
  flaky.producer.connect = async () => {
    flaky.calls.connect++;
    if (refusals-- > 0) throw new Error('broker not reachable');
  };
  const made = [fake(protocolError('UNKNOWN_PRODUCER_ID')), flaky];
  let i = 0;
  const p = new RecoveringProducer(() => made[i++]!.producer, logged);
  await p.connect();
  await t.rejects(p.send({ topic: 'x', messages: [] }));
  // Tries at about 0, 100 and 300 ms; the margin is for a busy machine.
  await new Promise((r) => setTimeout(r, 700));
  t.equal(flaky.calls.connect, 3, 'two refusals, then connected');
  t.same(warnings, [
    ['the broker refused the producer sequence; replacing the producer', undefined],
    ['new producer not connected yet', 100],
    ['new producer not connected yet', 200],
  ]);
  await t.resolves(p.send({ topic: 'x', messages: [] }), 'sends go to the replacement');

  const down = fake();
  down.producer.connect = async () => {
    down.calls.connect++;
    throw new Error('broker not reachable');
  };
  const others = [fake(protocolError('UNKNOWN_PRODUCER_ID')), down];
  let j = 0;
  const q = new RecoveringProducer(() => others[j++]!.producer, log);
  await q.connect();
  await t.rejects(q.send({ topic: 'x', messages: [] }));
  await new Promise((r) => setTimeout(r, 150));
  const closing = q.disconnect();
  const tries = down.calls.connect;
  await closing;
  await new Promise((r) => setTimeout(r, 400));
  t.equal(down.calls.connect, tries, 'no connection is tried once closed, not even after the wait under way');
});

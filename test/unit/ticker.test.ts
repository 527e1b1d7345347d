// The ticker: one send per round with a valid tick for each owned partition,
// nothing when none is owned, a failed send logged and survived, and the tick
// lapsing a hold of a quiet partition once the partition state machine reads it.
import t from 'tap';
import { pino } from 'pino';
import type { ProducerRecord } from 'kafkajs';
import { parseMessage } from '../../common/message.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { Ticker } from '../../consumer/ticker.js';
import { deposit, request } from '../helpers/tx.js';
import { confirmedAnswer } from '../helpers/kafka-answers.js';

const log = pino({ level: 'silent' });

function recorder(fail = false) {
  const sent: ProducerRecord[] = [];
  return {
    sent,
    producer: {
      send: async (r: ProducerRecord) => {
        if (fail) throw new Error('broker down');
        sent.push(r);
        return confirmedAnswer(r as never);
      },
    },
  };
}

t.test('a round is one send with a tick per owned partition', async (t) => {
  const { sent, producer } = recorder();
  const ticker = new Ticker(producer, 'teller.transactions', 1000, log, () => 1234);
  const ticked: number[][] = [];
  ticker.onTick = (p) => ticked.push(p);
  await ticker.tick([3, 7]);
  t.equal(sent.length, 1, 'one send');
  t.equal(sent[0]!.topic, 'teller.transactions');
  t.equal(sent[0]!.acks, -1, 'acks=all');
  t.same(
    sent[0]!.messages.map((m) => m.partition),
    [3, 7],
  );
  for (const m of sent[0]!.messages) {
    const parsed = parseMessage(m.value as Buffer);
    t.same(parsed, { ok: true, msg: { v: 1, type: 'tick', receivedAt: 1234 } }, 'a tick the consumer accepts');
  }
  t.same(ticked, [[3, 7]]);
  await ticker.tick([]);
  t.equal(sent.length, 1, 'no partition, no send');
});

t.test('a failed round is survived', async (t) => {
  const { producer } = recorder(true);
  const ticker = new Ticker(producer, 'teller.transactions', 1000, log);
  await t.resolves(ticker.tick([0]));
});

t.test('start ticks every interval until stop', async (t) => {
  const { sent, producer } = recorder();
  const ticker = new Ticker(producer, 'x', 20, log);
  ticker.start(() => [0, 1]);
  await new Promise((r) => setTimeout(r, 110));
  await ticker.stop();
  const rounds = sent.length;
  t.ok(rounds >= 3 && rounds <= 6, `about one round per interval (${rounds})`);
  await new Promise((r) => setTimeout(r, 60));
  t.equal(sent.length, rounds, 'none after stop');
});

t.test('a tick lapses the due hold of a quiet partition, and only a due one', async (t) => {
  const p = new PartitionLedger(0, 7 * 86_400_000);
  p.apply(deposit('d', 'acc', 100, { receivedAt: 1_000 }), 0);
  p.apply(request('r1', 'acc', 30, { receivedAt: 1_000, expiresAt: 5_000 }), 1);
  p.apply(request('r2', 'acc', 20, { receivedAt: 1_000, expiresAt: 50_000 }), 2);
  t.equal(p.account('acc')?.reserved, 50);
  const step = p.apply({ v: 1, type: 'tick', receivedAt: 6_000 }, 3);
  t.equal(step.outcome, undefined, 'a tick has no outcome');
  t.same(
    step.docs.map((d) => [d.type, d.requestId, d.amount, d.offset]),
    [['expire', 'r1', 30, 3]],
    'one expire document, at the offset of the tick',
  );
  t.same(
    step.changed.map((o) => [o.id, o.status]),
    [['r1', 'expired']],
  );
  t.equal(p.account('acc')?.reserved, 20, 'the lapsed hold is released, the other kept');
});

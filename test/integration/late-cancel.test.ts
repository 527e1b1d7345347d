// A withdrawal request approved well after its caller was answered 402
// timeout is released by its owner, whether or not the api's own cancel ever
// reached the log: the requests are published straight to Kafka, as an api
// replica would have before it died, one with its answer deadline long past.
import t from 'tap';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { encodeMessage, partitionOf } from '../../common/message.js';
import type { TxMessage } from '../../common/types.js';
import { uniq } from '../helpers/http.js';
import { config, readStack, topicPartitions, waitFor } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

const kafka = new Kafka({ clientId: 'teller-late-cancel-test', brokers: readStack().kafkaBrokers, logLevel: logLevel.NOTHING });

const count = await topicPartitions();

t.test('a request approved past its answer deadline is cancelled by its owner; one in time is not', async (t) => {
  const account = uniq('late-cancel');
  t.equal((await v1.deposit(account, { id: `${account}-d`, amount: 100 })).status, 200);

  const now = Date.now();
  const request = (id: string, amount: number, answerBy: number): TxMessage => ({
    v: 1,
    id,
    type: 'withdraw_request',
    accountId: account,
    amount,
    receivedAt: now,
    expiresAt: now + 3_600_000,
    answerBy,
  });
  const timely = request(`${account}-timely`, 30, now + 60_000);
  const late = request(`${account}-late`, 40, now - 60_000);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const partition = partitionOf(account, count);
  await producer.send({
    topic: config.topic,
    acks: -1,
    messages: [timely, late].map((message) => ({ key: account, value: encodeMessage(message), partition })),
  });

  const statement = await waitFor(
    async () => {
      const s = await v1.statement(account);
      return s.body?.data?.length === 4 ? s.body.data : undefined;
    },
    { what: 'the late request cancelled in the statement', timeoutMs: 30_000, intervalMs: 200 },
  );
  t.same(
    statement.map((e: { id: string; type: string; status: string }) => [e.id, e.type, e.status]),
    [
      [`${late.id}~timeout`, 'cancel', 'applied'],
      [late.id, 'withdraw_request', 'approved'],
      [timely.id, 'withdraw_request', 'approved'],
      [`${account}-d`, 'deposit', 'applied'],
    ],
    'the cancel follows the late request; none follows the timely one',
  );
  await waitFor(async () => (await v1.account(account)).body?.reserved === 30, { what: 'only the timely hold left', timeoutMs: 10_000, intervalMs: 100 });
  t.match((await v1.account(account)).body, { balance: 100, reserved: 30, available: 70 });
});

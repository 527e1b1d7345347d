// The dispatcher's parts around the delivery logic: where an endpoint's
// group starts, reading events off the topic, one HTTP attempt against a
// receiver on 127.0.0.1 (signed, the body as the topic holds it, each kind of
// failure), lag, and redelivery of dead letters marked by the api.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { newSecret, verifyProblem, WEBHOOKS_FORMAT_VERSION, type WebhookDeadLetterDoc } from '../../common/webhooks.js';
import type { AttemptResult } from '../../webhooks/batch-delivery.js';
import { eventOf } from '../../webhooks/endpoint-consumer.js';
import { httpSender, USER_AGENT } from '../../webhooks/http-sender.js';
import { Redelivery } from '../../webhooks/redelivery.js';
import { startPositions } from '../../webhooks/start-position.js';

t.test('start positions: a committed partition goes on; an uncommitted one starts where the endpoint was registered, a newer one at 0', async (t) => {
  const committed = [
    { partition: 0, offset: '40' },
    { partition: 1, offset: '-1' },
    { partition: 2, offset: '7' },
    { partition: 3, offset: '-1' },
  ];
  const { toSet, next } = startPositions([0, 1, 2, 3], committed, [30, 12, 5]);
  t.same(toSet, [
    { partition: 1, offset: '12' },
    { partition: 3, offset: '0' },
  ]);
  t.same([...next], [[0, 40], [1, 12], [2, 7], [3, 0]]);
  t.same(startPositions([0, 1], [{ partition: 0, offset: '3' }, { partition: 1, offset: '9' }], [1, 1]).toSet, [], 'all committed: nothing set');
});

t.test('an event off the topic keeps its exact bytes; a record that is no event is none', async (t) => {
  const body = '{"v":1,"eventId":"2:17","type":"deposit.applied","accountId":"alice","amount":5}';
  t.same(eventOf({ value: Buffer.from(body) }), { eventId: '2:17', accountId: 'alice', type: 'deposit.applied', body });
  for (const value of [null, Buffer.from('not json'), Buffer.from('{"eventId":3}'), Buffer.from('[]')]) t.equal(eventOf({ value }), undefined);
});

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver on 127.0.0.1 answering each request with `answer`. */
async function receiver(t: Test, answer: (res: ServerResponse, n: number) => void) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(res, received.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
}

const EVENT = { eventId: '4:12', accountId: 'bob', type: 'deposit.applied', body: '{"v":1,"eventId":"4:12","type":"deposit.applied","accountId":"bob","amount":7}' };

t.test('an attempt: a signed POST of the exact body; 2xx delivers, any other answer or none fails', async (t) => {
  const secret = newSecret();
  const statuses = [204, 500, 302, 404];
  const { url, received } = await receiver(t, (res, n) => res.writeHead(statuses[n - 1]!, { location: 'http://127.0.0.1:1/' }).end('ignored'));
  const attempts: [number, AttemptResult][] = [];
  const send = httpSender({ url, secret, timeoutMs: 2000, onAttempt: (ms, result) => attempts.push([ms, result]) });
  t.same(await send(EVENT), { ok: true });
  t.same(await send(EVENT), { ok: false, reason: 'status', error: 'status 500' });
  t.same(await send(EVENT), { ok: false, reason: 'status', error: 'status 302' }, 'a redirect is not followed');
  t.same(await send(EVENT), { ok: false, reason: 'status', error: 'status 404' });
  t.equal(received.length, 4);
  const first = received[0]!;
  t.equal(first.body, EVENT.body, 'the body exactly as on the topic');
  t.equal(first.headers['content-type'], 'application/json');
  t.equal(first.headers['user-agent'], USER_AGENT);
  t.equal(first.headers['webhook-id'], '4:12');
  t.equal(verifyProblem(secret, first.headers as Record<string, string>, first.body, { nowMs: Date.now() }), undefined, 'the signature verifies');
  t.equal(verifyProblem(newSecret(), first.headers as Record<string, string>, first.body, { nowMs: Date.now() }), 'no signature matches');
  t.equal(attempts.length, 4, 'each attempt observed');
});

t.test('no answer within the timeout, and no connection, are failures of their own kinds', async (t) => {
  const { url } = await receiver(t, () => undefined);
  t.same(await httpSender({ url, secret: newSecret(), timeoutMs: 200 })(EVENT), { ok: false, reason: 'timeout', error: 'no answer within 200 ms' });
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  t.match(await httpSender({ url: `http://127.0.0.1:${port}/`, secret: newSecret(), timeoutMs: 2000 })(EVENT), { ok: false, reason: 'network', error: /^no connection: ECONNREFUSED/ });
});

const letter = (endpointId: string, eventId: string): WebhookDeadLetterDoc => ({
  _id: `${endpointId}:${eventId}`,
  v: WEBHOOKS_FORMAT_VERSION,
  endpointId,
  eventId,
  accountId: 'alice',
  eventType: 'deposit.applied',
  body: `{"eventId":"${eventId}"}`,
  attempts: 3,
  lastError: 'status 500',
  firstAttemptAt: 1,
  lastAttemptAt: 2,
  state: 'redeliver',
});

t.test('redelivery: a delivered letter is deleted, a failed one is dead again with the attempt counted, one of an endpoint not running waits', async (t) => {
  const removed: string[] = [];
  const failed: [string, string, number][] = [];
  const outcomes: string[] = [];
  const posted: string[] = [];
  const redelivery = new Redelivery({
    documents: {
      markedForRedelivery: async () => [letter('up', '0:1'), letter('down', '0:2'), letter('gone', '0:3')],
      removeDeadLetter: async (id) => void removed.push(id),
      redeliveryFailed: async (doc, error, at) => void failed.push([doc._id, error, at]),
    },
    consumerOf: (id) =>
      id === 'gone'
        ? undefined
        : {
            redeliver: async (doc) => {
              posted.push(doc.body);
              return id === 'up' ? { ok: true } : { ok: false, reason: 'status', error: 'status 503' };
            },
          },
    metrics: { outcome: (endpoint, result) => void outcomes.push(`${endpoint} ${result}`) },
    log: pino({ level: 'silent' }),
    now: () => 99,
  });
  await redelivery.round();
  t.same(posted.sort(), ['{"eventId":"0:1"}', '{"eventId":"0:2"}'], 'the stored body, posted again');
  t.same(removed, ['up:0:1']);
  t.same(failed, [['down:0:2', 'status 503', 99]]);
  t.same(outcomes.sort(), ['down redelivery_failed', 'up redelivered']);
});

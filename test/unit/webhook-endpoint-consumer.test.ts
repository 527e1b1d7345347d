// One endpoint's consumer (webhooks/endpoint-consumer.ts) over a fake kafkajs
// consumer and admin and a real receiver on 127.0.0.1: its group positioned
// at the endpoint's start where it never committed, a batch committed (the
// offset after its last record) only once every event is delivered, nothing
// committed for a batch cut short, and the lag from what it committed.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EachBatchPayload } from 'kafkajs';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { newSecret, WEBHOOKS_FORMAT_VERSION, type WebhookEndpointDoc } from '../../common/webhooks.js';
import type { GivenUp } from '../../webhooks/batch-delivery.js';
import { EndpointConsumer } from '../../webhooks/endpoint-consumer.js';
import { WebhookMetrics } from '../../webhooks/webhook-metrics.js';

const TOPIC = 'teller.events';

async function receiver(t: Test, status: () => number) {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, bodies };
}

/** The endpoint's consumer over fakes; `eachBatch` is what it gave kafkajs's run. */
async function started(t: Test, url: string) {
  const setOffsets: unknown[] = [];
  const groups: string[] = [];
  let eachBatch!: (payload: EachBatchPayload) => Promise<void>;
  const admin = {
    fetchTopicOffsets: async () => [0, 1].map((partition) => ({ partition, offset: '20', high: '20', low: '0' })),
    fetchOffsets: async ({ groupId }: { groupId: string }) => {
      groups.push(groupId);
      return [{ topic: TOPIC, partitions: [{ partition: 0, offset: '-1', metadata: null }, { partition: 1, offset: '5', metadata: null }] }];
    },
    setOffsets: async (request: unknown) => void setOffsets.push(request),
  };
  const consumer = {
    events: { CRASH: 'consumer.crash' },
    on: () => undefined,
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (config: { eachBatch: typeof eachBatch }) => void (eachBatch = config.eachBatch),
    disconnect: async () => undefined,
  };
  const endpoint: WebhookEndpointDoc = { _id: 'crm', v: WEBHOOKS_FORMAT_VERSION, url, secret: newSecret(), state: 'active', startOffsets: [10, 3], createdAt: 0 };
  const deadLetters: GivenUp[] = [];
  const endpointConsumer = new EndpointConsumer(
    endpoint,
    { topic: TOPIC, partitions: 2, sessionTimeoutMs: 6000, timeoutMs: 2000, concurrency: 4, policy: { baseMs: 1, capMs: 2, horizonMs: 3_600_000 } },
    {
      kafka: { consumer: () => consumer as never },
      admin: admin as never,
      documents: { insertDeadLetter: async (_id, given) => void deadLetters.push(given) },
      metrics: new WebhookMetrics({ retryHorizonSeconds: 3600, timeoutMs: 2000, backoffBaseMs: 1, backoffCapMs: 2 }),
      log: pino({ level: 'silent' }),
      clock: { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    },
  );
  await endpointConsumer.start();
  return { endpointConsumer, eachBatch, setOffsets, groups, deadLetters };
}

const value = (eventId: string, accountId: string) => Buffer.from(JSON.stringify({ v: 1, eventId, accountId, type: 'deposit.applied' }));

/** A batch of partition 0 from offset 10, and what the consumer did with its offsets. */
function batchOf(values: Buffer[], running: () => boolean = () => true) {
  const resolved: string[] = [];
  const commits: unknown[] = [];
  const payload = {
    batch: {
      topic: TOPIC,
      partition: 0,
      messages: values.map((v, i) => ({ offset: String(10 + i), value: v })),
      lastOffset: () => String(10 + values.length - 1),
    },
    resolveOffset: (offset: string) => void resolved.push(offset),
    commitOffsetsIfNecessary: async (offsets: unknown) => void commits.push(offsets),
    heartbeat: async () => undefined,
    isRunning: running,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  return { payload, resolved, commits };
}

t.test('started: the group of the endpoint, its uncommitted partition set to where the endpoint began', async (t) => {
  const { url } = await receiver(t, () => 200);
  const { groups, setOffsets, endpointConsumer } = await started(t, url);
  t.same(groups, ['teller-webhooks-crm']);
  t.same(setOffsets, [{ groupId: 'teller-webhooks-crm', topic: TOPIC, partitions: [{ partition: 0, offset: '10' }] }]);
  t.equal(endpointConsumer.lag([20, 20]), 10 + 15, 'behind the end by what it has not processed');
});

t.test('a batch delivered whole: its events posted, the offset after it committed, the lag down', async (t) => {
  const { url, bodies } = await receiver(t, () => 200);
  const { eachBatch, endpointConsumer } = await started(t, url);
  const { payload, resolved, commits } = batchOf([value('0:10', 'alice'), value('0:11', 'bob'), Buffer.from('not an event')]);
  await eachBatch(payload);
  t.same(bodies.map((b) => JSON.parse(b).eventId).sort(), ['0:10', '0:11']);
  t.same(resolved, ['12']);
  t.same(commits, [{ topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '13' }] }] }]);
  t.equal(endpointConsumer.lag([20, 20]), 7 + 15);
});

t.test('a batch cut short (the consumer stopping while an event is retried): nothing resolved or committed', async (t) => {
  let running = true;
  const { url, bodies } = await receiver(t, () => {
    running = false;
    return 503;
  });
  const { eachBatch, endpointConsumer, deadLetters } = await started(t, url);
  const { payload, resolved, commits } = batchOf([value('0:10', 'alice')], () => running);
  await eachBatch(payload);
  t.equal(bodies.length, 1, 'one attempt, then the stop');
  t.same(resolved, []);
  t.same(commits, []);
  t.same(deadLetters, []);
  t.equal(endpointConsumer.lag([20, 20]), 10 + 15, 'nothing processed');
});

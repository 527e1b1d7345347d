// `npm run top`'s options and its scrape of a stack (scripts/operations/top.ts):
// a replica and a consumer served from their real metric registries on
// loopback, and a process that does not answer.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { ApiMetrics } from '../../api/api-metrics.js';
import { ConsumerMetrics } from '../../consumer/consumer-metrics.js';
import { parseTopArgs, scrapeStack } from '../../scripts/operations/top.js';
import { figures } from '../../scripts/operations/top-figures.js';
import type { StackInfo } from '../../scripts/stack/stack-file.js';

t.test('options: defaults, limits, and color only on a terminal that wants it', async (t) => {
  t.strictSame(parseTopArgs([], {}, true), { once: false, intervalSeconds: 2, color: true });
  t.strictSame(parseTopArgs(['--once', '--interval', '1'], {}, true), { once: true, intervalSeconds: 1, color: true });
  t.strictSame(parseTopArgs(['--seconds', '30'], {}, false), { once: false, intervalSeconds: 2, color: false, seconds: 30 }, 'not a terminal: no color');
  t.equal(parseTopArgs([], { NO_COLOR: '1' }, true).color, false, 'NO_COLOR');
  t.equal(parseTopArgs(['--no-color'], {}, true).color, false);
  t.throws(() => parseTopArgs(['--interval', '0.1'], {}, true), /--interval 0\.1: seconds from 0\.5 to 60/);
  t.throws(() => parseTopArgs(['--interval', 'soon'], {}, true), /--interval soon/);
  t.throws(() => parseTopArgs(['--seconds', '0'], {}, true), /--seconds 0: a whole number/);
  t.throws(() => parseTopArgs(['--seconds', '1.5'], {}, true), /--seconds 1\.5/);
  t.throws(() => parseTopArgs(['--forever'], {}, true), /Unknown option '--forever'/);
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

t.test('every api replica and consumer of the stack is scraped; one not answering is named with its reason', async (t) => {
  const api = new ApiMetrics({ replicaId: 'api-1', producer: () => ({ queued: 7, inFlight: 0, lastBatchSize: 0, failing: true, refused: {} }), waiting: () => 1 });
  const consumer = new ConsumerMetrics('consumer-1', () => [0, 1]);
  const apiServer = await serve(async (_req, res) => res.writeHead(200, { 'content-type': api.registry.contentType }).end(await api.registry.metrics()));
  const consumerServer = await serve(async (_req, res) => res.writeHead(200, { 'content-type': consumer.registry.contentType }).end(await consumer.registry.metrics()));
  const refusing = await serve((_req, res) => res.writeHead(503).end());
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = portOf(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));

  const component = (name: string, kind: 'api' | 'consumer' | 'redis', port: number) => ({ name, kind, pidFile: '', log: '', port });
  const stack: StackInfo = {
    pid: process.pid,
    url: 'http://127.0.0.1:8080',
    startedAt: '',
    supervisorLog: '',
    kafkaBrokers: [],
    mongoUri: '',
    redisUrl: '',
    components: [
      component('redis', 'redis', 1),
      component('api-1', 'api', portOf(apiServer)),
      component('api-2', 'api', closedPort),
      component('consumer-1', 'consumer', portOf(consumerServer)),
      component('consumer-2', 'consumer', portOf(refusing)),
    ],
  };
  const scrape = await scrapeStack(stack, 2000);
  t.strictSame(
    scrape.processes.map((p) => [p.name, p.kind, p.samples !== undefined, p.error]),
    [
      ['api-1', 'api', true, undefined],
      ['api-2', 'api', false, 'ECONNREFUSED'],
      ['consumer-1', 'consumer', true, undefined],
      ['consumer-2', 'consumer', false, 'HTTP 503'],
    ],
    'the api replicas and consumers only',
  );
  const f = figures(undefined, scrape);
  t.match(f.apis[0], { name: 'api-1', kafkaFailing: true, queued: 7, waiting: 1 });
  t.match(f.consumers[0], { name: 'consumer-1', owned: 2, lag: 0 });
  t.ok(f.consumers[0]!.heartbeatAgeSeconds! >= 0, 'the heartbeat age read from the consumer');
  t.ok(f.apis[0]!.rssBytes! > 0, "the replica's resident memory read");
  t.equal(f.consumers[1]!.unreachable, 'HTTP 503');
});

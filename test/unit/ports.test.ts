// The supervisor refuses to start when a port it needs is taken, naming the setting.
import { createServer, type Server } from 'node:net';
import t from 'tap';
import { readConfig } from '../../common/config.js';
import { assertPortsFree, stackPorts } from '../../scripts/stack/stack-ports.js';

function listen(port = 0): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

t.test('every port of a default stack is listed', async (t) => {
  const ports = stackPorts(readConfig({})).map((u) => u.port);
  t.same(ports, [8080, 9092, 9093, 27117, 6479, 3101, 3102, 3201, 3202, 3301]);
});

t.test('no webhook dispatcher, no port of its own', async (t) => {
  for (const env of [{ WEBHOOKS_ENABLED: 'false' }, { EVENTS_ENABLED: 'false' }, { WEBHOOKS_METRICS_PORT: '0' }]) {
    t.notOk(stackPorts(readConfig(env)).some((u) => u.port === 3301), JSON.stringify(env));
  }
});

t.test('external services need no local port', async (t) => {
  const ports = stackPorts(readConfig({ KAFKA_BROKERS: 'k:9092', MONGODB_URI: 'mongodb://m/teller', REDIS_URL: 'redis://r' })).map((u) => u.port);
  t.same(ports, [8080, 3101, 3102, 3201, 3202, 3301]);
});

t.test('a taken port is refused by name', async (t) => {
  const server = await listen();
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  await t.rejects(assertPortsFree([{ host: '127.0.0.1', port, what: 'TELLER_PORT, NGINX' }]), new RegExp(`127\\.0\\.0\\.1:${port} \\(TELLER_PORT, NGINX\\) is in use`));
});

t.test('free ports pass, and one port given twice is refused', async (t) => {
  const server = await listen();
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  await t.resolves(assertPortsFree([{ host: '127.0.0.1', port, what: 'a' }]));
  await t.rejects(
    assertPortsFree([
      { host: '127.0.0.1', port, what: 'a' },
      { host: '127.0.0.1', port, what: 'b' },
    ]),
    /also given to another component/,
  );
});

t.test("the benchmark's ceiling stack takes no port of the running stack's", async (t) => {
  const { ceilingPorts } = await import('../../scripts/benchmark/ceiling-phase.js');
  for (const env of [{}, { KAFKA_NODES: '3', API_REPLICAS: '4', CONSUMERS: '4' }]) {
    const config = readConfig(env);
    const { port, apiBasePort } = ceilingPorts({ config, opts: { ceilingPort: undefined, ceilingApiBasePort: undefined } as never });
    const ceiling = [port, ...Array.from({ length: config.apiReplicas }, (_, i) => apiBasePort + i)];
    const taken = new Set(stackPorts(config).map((u) => u.port));
    t.same(ceiling.filter((p) => taken.has(p)), [], `no overlap with ${JSON.stringify(env)}`);
  }
});

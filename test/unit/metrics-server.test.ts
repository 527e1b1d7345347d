// The metrics server of the consumers and the dispatcher (common/metrics-server.ts):
// GET /metrics answers the registry; POST /gc runs two full collections only in a
// process started with --expose-gc, and is not found elsewhere.
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { Gauge, Registry } from 'prom-client';
import { closeMetricsServer, serveMetrics } from '../../common/metrics-server.js';

async function serve(t: Test) {
  const registry = new Registry();
  new Gauge({ name: 'teller_test_gauge', help: 'a gauge', registers: [registry] }).set(7);
  const server = await serveMetrics(registry, 0, '127.0.0.1');
  t.teardown(() => closeMetricsServer(server));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

t.test('GET /metrics answers the registry; anything else is not found', async (t) => {
  const url = await serve(t);
  const metrics = await fetch(`${url}/metrics`);
  t.equal(metrics.status, 200);
  t.match(await metrics.text(), /^teller_test_gauge 7$/m);
  t.equal((await fetch(`${url}/other`)).status, 404);
  t.equal((await fetch(`${url}/metrics`, { method: 'POST' })).status, 404);
});

t.test('POST /gc runs two full collections where node exposes one, and is not found elsewhere', async (t) => {
  const url = await serve(t);
  const exposed = globalThis.gc;
  t.teardown(() => void (globalThis.gc = exposed));
  globalThis.gc = undefined;
  t.equal((await fetch(`${url}/gc`, { method: 'POST' })).status, 404, 'without --expose-gc');
  let collections = 0;
  globalThis.gc = (() => void collections++) as NodeJS.GCFunction;
  const answer = await fetch(`${url}/gc`, { method: 'POST' });
  t.equal(answer.status, 204, 'with it');
  t.equal(collections, 2, 'two full collections: the external memory of what the first found dead is counted off by the second');
  t.equal((await fetch(`${url}/gc`)).status, 404, 'a GET collects nothing');
  t.equal(collections, 2);
});

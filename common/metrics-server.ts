// The HTTP server a process without its own web server (a ledger consumer,
// the webhook dispatcher) answers Prometheus's scrapes with: GET /metrics, and
// POST /gc (two full collections) in a process started with --expose-gc.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** Listens on `port` and `host`; resolves once listening, rejects when the port cannot be had. */
export async function serveMetrics(registry: Registry, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    // Full collections on request, for reading the memory a process retains rather than
    // its garbage not yet collected (the soak benchmark, scripts/benchmark/soak-memory.ts).
    // Two: after one, node 20 still counts as external memory the buffers that collection
    // found dead (50 MB of dropped buffers: 63 MB external after one collection, 5.9 MB
    // after a second), which would be read as memory the process keeps.
    // Only where node was started with --expose-gc, which nothing does unless told to.
    const fullGc = globalThis.gc;
    if (req.method === 'POST' && path === '/gc' && fullGc) {
      fullGc();
      fullGc();
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** Closes the server and the scrapes' kept-alive connections with it. */
export async function closeMetricsServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

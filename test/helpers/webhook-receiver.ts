// A webhook receiver for the tests: an HTTP server on 127.0.0.1 (a port the
// kernel picks) that records every request, and answers each as the test
// says per path: a status, or no answer at all (a hung endpoint). Closed,
// with every connection, when the test ends.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The event's id, from the webhook-id header. */
  webhookId: string;
  /** This request's number among those carrying the same webhook-id to the same path, from 1. */
  attempt: number;
  /** What the receiver answered: a status, or `hang` for none. */
  answer: number | 'hang';
}

/** How a path answers the `attempt`th request for one event id. */
export type Answer = (attempt: number, delivery: Omit<Delivery, 'answer'>) => number | 'hang';

export interface Receiver {
  /** The URL of `path` on this receiver, to register as an endpoint. */
  url(path: string): string;
  /** Sets how `path` answers (200 until told otherwise), each answer after `delayMs`. */
  answer(path: string, how: Answer, delayMs?: number): void;
  /** Every request to `path` so far, in arrival order. */
  deliveries(path: string): Delivery[];
}

export async function startReceiver(t: Test): Promise<Receiver> {
  const all: Delivery[] = [];
  const answers = new Map<string, { how: Answer; delayMs: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const webhookId = String(req.headers['webhook-id'] ?? '');
      const attempt = all.filter((d) => d.path === path && d.webhookId === webhookId).length + 1;
      const received = { path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), webhookId, attempt };
      const { how, delayMs } = answers.get(path) ?? { how: () => 200, delayMs: 0 };
      const answer = how(attempt, received);
      all.push({ ...received, answer });
      // A sender that went away meanwhile (a timeout, a killed dispatcher) gets no answer, and that is no error here.
      res.on('error', () => undefined);
      // A hung request is left open: the dispatcher's timeout ends it, or the teardown does.
      if (answer !== 'hang') {
        setTimeout(() => {
          if (!res.destroyed) res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no');
        }, delayMs);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    answer: (path, how, delayMs = 0) => void answers.set(path, { how, delayMs }),
    deliveries: (path) => all.filter((d) => d.path === path),
  };
}

// The webhooks phase: the contract flow again with 0, 1 and 10 webhook
// endpoints registered (docs/webhooks.md), each step against the same-run
// ceiling, to show what the dispatcher's deliveries cost the ledger. The
// endpoints post to a receiver on loopback in this process that answers 204
// at once and counts what it gets, so the steps measure Teller's side only.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { contractShape } from './autocannon-load.js';
import { contractFlow, type BenchContext } from './bench-context.js';
import type { PhaseResult } from './bench-result.js';
import { stackTracked } from './bench-stack.js';
import { loadPhase } from './load-phase.js';

/** How many endpoints each step registers, in order. */
export const WEBHOOK_STEPS = [0, 1, 10] as const;

/** The endpoints a dispatcher reloads every WEBHOOKS_RELOAD_INTERVAL_MS and joins a group for: what a step waits before measuring. */
const PICK_UP_MS = 8000;

interface Receiver {
  url: string;
  received: () => number;
  close: () => Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  let received = 0;
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received++;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/teller-events`,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function call(base: string, method: string, path: string, body?: object): Promise<void> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status >= 300 && response.status !== 404) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`);
}

/** The ids of a step's endpoints: the run's stamp keeps them apart from any other run's. */
export function endpointIds(stamp: string, step: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `bench-${stamp}-s${step}-${i}`);
}

async function step(ctx: BenchContext, receiver: Receiver, count: number, index: number): Promise<PhaseResult> {
  const base = ctx.stack.info.url;
  const ids = endpointIds(ctx.stamp, index, count);
  for (const id of ids) await call(base, 'POST', '/v1/webhooks', { id, url: receiver.url });
  try {
    if (count > 0) await new Promise((r) => setTimeout(r, PICK_UP_MS));
    const before = receiver.received();
    const result = await loadPhase(ctx, {
      name: `webhooks-${count}`,
      description: `the contract flow with ${count} webhook endpoint${count === 1 ? '' : 's'} registered, each receiving every event`,
      url: base,
      keepAlive: true,
      shape: contractShape,
      flow: contractFlow(ctx, `w${count}`, 10 + index),
      tracked: () => stackTracked(ctx.stack.info),
      live: true,
      ratioOf: 'ceiling',
    });
    result.webhook_endpoints = count;
    result.webhook_deliveries = receiver.received() - before;
    return result;
  } finally {
    for (const id of ids) await call(base, 'DELETE', `/v1/webhooks/${id}`).catch(() => undefined);
  }
}

/** Runs the steps in order; each is recorded as a phase of its own (`webhooks-0`, `webhooks-1`, `webhooks-10`). */
export async function webhooksPhase(ctx: BenchContext): Promise<void> {
  const receiver = await startReceiver();
  try {
    for (const [index, count] of WEBHOOK_STEPS.entries()) {
      ctx.progress.note(`== webhooks-${count}`);
      ctx.phases[`webhooks-${count}`] = await step(ctx, receiver, count, index);
    }
  } finally {
    await receiver.close();
  }
}

// Probes for the takeover: one deposit of 1 to an account of each partition
// every `intervalMs`, through NGINX, until every partition has answered with
// decided 200s again (see TakeoverTracker) or the time is up.
import type { AckLog } from './ack-log.js';
import { accountForPartition, TakeoverTracker } from './takeover-tracker.js';

export interface ProbeOptions {
  url: string;
  partitions: number;
  accountPrefix: string;
  idPrefix: string;
  tracker: TakeoverTracker;
  maxMs: number;
  intervalMs?: number;
  acked?: AckLog;
  onProgress?: (served: number) => void;
}

/** Probes until every partition is served or `maxMs` has passed since the kill; returns how many probes were sent. */
export async function probeUntilServed(o: ProbeOptions): Promise<number> {
  const accounts = Array.from({ length: o.partitions }, (_, p) => accountForPartition(p, o.partitions, o.accountPrefix));
  const interval = o.intervalMs ?? 200;
  const deadline = o.tracker.killedAt + o.maxMs;
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const probe = (p: number) => {
    const id = `${o.idPrefix}-${(sent++).toString(36)}`;
    const accountId = accounts[p] as string;
    const sentAt = Date.now();
    const req = fetch(`${o.url}/transaction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, type: 'deposit', amount: 1, accountId }),
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        o.tracker.answer(p, sentAt, Date.now(), res.status);
        if ((res.status >= 200 && res.status < 300) || res.status === 402) o.acked?.add(id, accountId);
      })
      .catch(() => o.tracker.answer(p, sentAt, Date.now(), 0))
      .finally(() => inFlight.delete(req));
    inFlight.add(req);
  };
  while (!o.tracker.allServed && Date.now() < deadline) {
    for (let p = 0; p < o.partitions; p++) probe(p);
    o.onProgress?.(o.partitions - o.tracker.waiting().length);
    await new Promise((r) => setTimeout(r, interval));
  }
  await Promise.allSettled([...inFlight]);
  return sent;
}

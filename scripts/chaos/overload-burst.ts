// The overload case's fault: on top of the books-keeping load, a burst of
// deposits on accounts of its own, sent open loop (scripts/shared/open-loop.ts)
// over 1,000 connections for a few seconds, well past what the stack decides.
// The replicas refuse the surplus at once (503 overloaded); the books-keeping
// client retries its own refused calls with the same id. Afterwards the books
// must still match and the audit pass, with the burst's acknowledged deposits
// among the ids it checks, and none of a sample of the burst's refused calls
// may be known to the ledger. Bounded: BURST.rps x BURST.seconds calls at most,
// each answered or given up within BURST.timeoutMs.
import { classify, OVERLOADED } from '../shared/answer-class.js';
import { OpenLoop, type OpenLoopCall } from '../shared/open-loop.js';
import { lookUpRefused, type RefusedCall } from '../shared/refused-lookup.js';

export const BURST = {
  seconds: 5,
  /** Past the about 8,000 calls/s the stack decides on two cores, with the books-keeping load besides. */
  rps: 10_000,
  connections: 1000,
  accounts: 1000,
  /** Past NGINX's proxy_read_timeout, so its 504 would be seen. */
  timeoutMs: 20_000,
  /** Refused calls looked up afterwards. */
  lookups: 100,
} as const;

export interface BurstOutcome {
  /** What the case's report shows of the fault. */
  figures: Record<string, number>;
  /** Deposits of the burst acknowledged (200, 202): the audit checks each is in the ledger once. */
  acknowledged: { id: string; accountId: string }[];
}

interface BurstCall extends OpenLoopCall {
  id: string;
  accountId: string;
}

export async function overloadBurst(baseUrl: string): Promise<BurstOutcome> {
  const tag = `overload-burst-${Date.now().toString(36)}`;
  let seq = 0;
  const counts = { sent: 0, unsent: 0, accepted: 0, refused: 0, other: 0 };
  const acknowledged: BurstOutcome['acknowledged'] = [];
  const refused: RefusedCall[] = [];
  const next = (): BurstCall => {
    const n = seq++;
    const accountId = `${tag}-a${n % BURST.accounts}`;
    const id = `${tag}-${n}`;
    return { id, accountId, path: `/v1/accounts/${accountId}/deposits`, body: JSON.stringify({ id, amount: 1 }) };
  };
  const loop = new OpenLoop<BurstCall>({ url: baseUrl, connections: BURST.connections, headers: { 'content-type': 'application/json' }, timeoutMs: BURST.timeoutMs });
  try {
    await loop.run(BURST.rps, BURST.seconds, next, {
      sent: () => void counts.sent++,
      unsent: () => void counts.unsent++,
      answered: ({ id, accountId }, status, _latencyMs, problemType) => {
        const kind = classify(status, problemType);
        counts[kind]++;
        if (kind === 'accepted') acknowledged.push({ id, accountId });
        if (problemType === OVERLOADED && refused.length < BURST.lookups) refused.push({ id, accountId });
      },
      failed: () => void counts.other++,
    });
  } finally {
    loop.close();
  }
  const lookedUp = await lookUpRefused(baseUrl, refused);
  return {
    figures: {
      burst_sent: counts.sent,
      burst_unsent: counts.unsent,
      burst_accepted: counts.accepted,
      burst_refused: counts.refused,
      burst_failed: counts.other,
      refused_looked_up: lookedUp.checked,
      refused_in_ledger: lookedUp.found,
    },
    acknowledged,
  };
}

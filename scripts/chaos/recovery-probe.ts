// Recovery time: after a fault, how long until every partition decides calls
// again. One probe account per partition gets a small deposit until it is
// answered 200 (decided, not merely accepted).
import { partitionOf } from '../../common/message.js';

/** An account name for each partition, found by trying names in order. */
export function probeAccounts(prefix: string, partitions: number): string[] {
  const found = new Array<string | undefined>(partitions).fill(undefined);
  let left = partitions;
  for (let i = 0; left > 0 && i < partitions * 1000; i++) {
    const name = `${prefix}-${i}`;
    const p = partitionOf(name, partitions);
    if (found[p] === undefined) {
      found[p] = name;
      left--;
    }
  }
  return found.map((a, p) => {
    if (a === undefined) throw new Error(`no probe account found for partition ${p}`);
    return a;
  });
}

/** Resolves with the ms from `since` until every probe account got a decided deposit, or rejects at the deadline. */
export async function timeUntilServed(baseUrl: string, accounts: string[], since: number, runId: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seq = 0;
  await Promise.all(
    accounts.map(async (accountId) => {
      while (Date.now() < deadline) {
        const id = `${runId}-probe-${seq++}`;
        try {
          const res = await fetch(`${baseUrl}/transaction`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ id, type: 'deposit', amount: 1, accountId }),
            signal: AbortSignal.timeout(5000),
          });
          await res.arrayBuffer();
          if (res.status === 200) return;
        } catch {
          // Down, or being restarted: try again.
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`partition of ${accountId} not served within ${timeoutMs} ms`);
    }),
  );
  return Date.now() - since;
}

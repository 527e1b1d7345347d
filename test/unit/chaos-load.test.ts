// The chaos load's client: a call is sent again with its id, after growing
// delays, until it is acknowledged, and reported unresolved once retryForMs has
// passed without an acknowledgement.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { ChaosLoad } from '../../scripts/chaos/chaos-load.js';

interface Attempt {
  id: string;
  at: number;
}

/** A stand-in for NGINX that answers each attempt with `status(attemptOfThisId)`. */
async function fakeStack(t: Test, status: (attempt: number) => number): Promise<{ url: string; attempts: Attempt[] }> {
  const attempts: Attempt[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const { id } = JSON.parse(body) as { id: string };
      const code = status(attempts.filter((a) => a.id === id).length);
      attempts.push({ id, at: Date.now() });
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: code === 200 ? 'applied' : 'unavailable' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, attempts };
}

// One call only: it starts within the 30 ms window and its retries outlast it.
const options = { accounts: ['a1'], workers: 1, durationMs: 30, runId: 'chaos-test' };

t.test('a refused call is sent again with the same id, 50 then 100 ms later, and counted once acknowledged', async (t) => {
  const stack = await fakeStack(t, (attempt) => (attempt < 2 ? 503 : 200));
  const result = await new ChaosLoad({ ...options, baseUrl: stack.url, retryForMs: 10_000 }).run();
  t.equal(stack.attempts.length, 3);
  t.same(new Set(stack.attempts.map((a) => a.id)).size, 1, 'every attempt carries the same id');
  t.ok(stack.attempts[1]!.at - stack.attempts[0]!.at >= 45, 'the first retry waits about 50 ms');
  t.ok(stack.attempts[2]!.at - stack.attempts[1]!.at >= 95, 'the second waits about 100 ms');
  t.same(result.unresolved, []);
  t.same(result.books.acknowledged, [{ id: stack.attempts[0]!.id, accountId: 'a1' }]);
  t.same(Object.fromEntries(result.books.failures), { 503: 2 });
  t.equal(result.decidedAt.length, 1, 'the decided answer is timed for the recovery figures');
});

t.test('a call never acknowledged is given up after retryForMs and reported unresolved', async (t) => {
  const stack = await fakeStack(t, () => 503);
  const started = Date.now();
  const result = await new ChaosLoad({ ...options, baseUrl: stack.url, retryForMs: 300 }).run();
  t.ok(Date.now() - started >= 300, 'not before retryForMs');
  t.same(result.unresolved, [{ id: stack.attempts[0]!.id, accountId: 'a1' }]);
  t.same(result.books.acknowledged, []);
  t.equal(result.decidedAt.length, 0);
  t.ok(stack.attempts.length >= 3 && stack.attempts.length <= 5, `attempts 50, 100, 200 ms apart until 300 ms have passed (${stack.attempts.length})`);
});

// Graceful shutdown on SIGTERM, on the real stack: an api replica stops taking
// calls and answers those in flight (then the supervisor starts it again), and
// a consumer finishes its batches, commits and leaves the group, so its
// partitions are decided again by another member at once, with nothing lost.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import t from 'tap';
import { uniq } from '../helpers/http.js';
import { component, isAlive, killComponent, pidOf, readStack, waitFor, waitHttpOk, waitRestarted } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

interface Result {
  id: string;
  status?: number;
  error?: string;
  sentAt: number;
  doneAt: number;
}

/** A POST on a connection of its own (no keep-alive), straight to a replica. */
function post(port: number, path: string, body: object): Promise<Result> {
  const sentAt = Date.now();
  const id = (body as { id: string }).id;
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ id, status: res.statusCode, sentAt, doneAt: Date.now() }));
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ id, error: err.code ?? err.message, sentAt, doneAt: Date.now() }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ id, error: err.code ?? err.message, sentAt, doneAt: Date.now() }));
    req.end(JSON.stringify(body));
  });
}

const logLines = (name: string, since: number) =>
  readFileSync(component(name).log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { time: number; msg: string })
    .filter((e) => e.time >= since);

const stack = readStack();
const consumers = stack.components.filter((c) => c.kind === 'consumer').map((c) => c.name);

t.test('an api replica sent SIGTERM answers its calls in flight, refuses new ones, and is restarted', async (t) => {
  const name = stack.components.find((c) => c.kind === 'api')!.name;
  const port = component(name).port!;
  const a = uniq('sigterm-api');
  // Frozen consumers hold every call in the replica, waiting for its decision: in flight for sure.
  const frozen = consumers.map((c) => killComponent(c, 'SIGSTOP'));
  const thaw = () => frozen.forEach((pid) => isAlive(pid) && process.kill(pid, 'SIGCONT'));
  t.teardown(thaw);
  const since = Date.now();
  const calls = Array.from({ length: 20 }, (_, i) => post(port, `/v1/accounts/${a}/deposits`, { id: `${a}-${i}`, amount: 5 }));
  await new Promise((r) => setTimeout(r, 400));
  const pid = killComponent(name, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  const late = await post(port, `/v1/accounts/${a}/deposits`, { id: `${a}-late`, amount: 1000 });
  thaw();

  const results = await Promise.all(calls);
  t.same(
    results.filter((r) => r.status !== 200 && r.status !== 202),
    [],
    'every call in flight is answered: decided (200), or accepted (202) had the decision come late',
  );
  t.ok(results.filter((r) => r.status === 200).length > 0, 'calls in flight got their decision after the SIGTERM');
  t.ok(late.error !== undefined || late.status === 503, `a new call is refused (${late.error ?? late.status})`);

  const newPid = await waitRestarted(name, pid);
  t.not(newPid, pid, `${name} runs again as pid ${newPid}`);
  await waitHttpOk(`http://127.0.0.1:${port}/healthz`);
  const log = logLines(name, since).map((e) => e.msg);
  t.ok(log.includes('stopping: no new calls, finishing those in flight'), 'the replica logged the start of its shutdown');
  t.ok(log.includes('stopped'), 'and its end: producer flushed, connections closed');

  await waitFor(async () => (await v1.account(a)).body?.balance === 100, { what: 'balance 100', timeoutMs: 20_000 });
  t.pass('each of the 20 calls was applied once, and the refused one not at all');
});

t.test('through NGINX, a replica restarting under load fails no call', async (t) => {
  const name = stack.components.filter((c) => c.kind === 'api').at(-1)!.name;
  const a = uniq('sigterm-nginx');
  const statuses: Record<string, number> = {};
  let stop = false;
  let n = 0;
  const worker = async () => {
    while (!stop) {
      const i = n++;
      const r = await v1.deposit(`${a}-${i % 10}`, { id: `${a}-${i}`, amount: 1 }).catch((err: Error) => ({ status: err.message }));
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    }
  };
  const workers = Array.from({ length: 16 }, worker);
  await new Promise((r) => setTimeout(r, 1000));
  const pid = killComponent(name, 'SIGTERM');
  await waitRestarted(name, pid);
  await new Promise((r) => setTimeout(r, 1000));
  stop = true;
  await Promise.all(workers);
  t.same(
    Object.keys(statuses).filter((s) => s !== '200' && s !== '202'),
    [],
    `every call answered 200 or 202 while ${name} stopped and started again: ${JSON.stringify(statuses)}`,
  );
});

t.test('a consumer sent SIGTERM leaves the group: its partitions are decided again at once, nothing lost', async (t) => {
  const name = consumers[0]!;
  const accounts = Array.from({ length: 24 }, () => uniq('sigterm-consumer'));
  const books = new Map(accounts.map((a) => [a, 0]));
  const results: (Result & { account: string })[] = [];
  let stop = false;
  let n = 0;
  const worker = async () => {
    while (!stop) {
      const i = n++;
      const account = accounts[i % accounts.length]!;
      const id = `${account}-${i}`;
      const sentAt = Date.now();
      const r = await v1.deposit(account, { id, amount: 1 }).catch(() => undefined);
      results.push({ id, account, status: r?.status, sentAt, doneAt: Date.now() });
      if (r && (r.status === 200 || r.status === 202)) books.set(account, books.get(account)! + 1);
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await new Promise((r) => setTimeout(r, 1000));
  const since = Date.now();
  const pid = killComponent(name, 'SIGTERM');
  await waitFor(() => !isAlive(pid), { what: `${name} exited`, timeoutMs: 15_000, intervalMs: 50 });
  const exitedAfter = Date.now() - since;
  await new Promise((r) => setTimeout(r, 6000));
  stop = true;
  await Promise.all(workers);

  t.ok(exitedAfter < 10_000, `${name} exited ${exitedAfter} ms after SIGTERM, within its session timeout`);
  const msgs = logLines(name, since).map((e) => e.msg);
  t.ok(msgs.includes('stopping: finishing batches in flight, then leaving the group'), 'it finished its batches');
  t.ok(msgs.includes('stopped'), 'and left the group');
  t.same(
    results.filter((r) => r.status !== 200 && r.status !== 202),
    [],
    'no call failed',
  );
  const tail = results.filter((r) => r.sentAt > since + exitedAfter + 4000);
  t.ok(tail.length > 0, `${tail.length} calls sent once the takeover had time`);
  t.same(
    tail.filter((r) => r.status !== 200),
    [],
    'every partition is decided again a few seconds after the member left (no wait for a session timeout)',
  );

  for (const a of accounts) {
    await waitFor(async () => (await v1.account(a)).body?.balance === books.get(a), { what: `balance of ${a}`, timeoutMs: 30_000 });
  }
  t.pass("every balance equals the client's books: nothing lost, nothing twice");
  const newPid = await waitRestarted(name, pid);
  t.ok(pidOf(name) === newPid, `${name} restarted as pid ${newPid}`);
});

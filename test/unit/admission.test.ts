// Admission control (api/admission.ts) through the whole HTTP app with
// in-memory collaborators: a replica holding its limit of write calls refuses
// the next one at once (503 overloaded, Retry-After, nothing produced), takes
// one again when a call ends, never refuses a read, and gives a slot back
// whichever way a call ends, a client that left included.
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import { producerHighWater } from '../../api/admission.js';
import { ApiKeyAuth, parseApiKeys } from '../../api/auth.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { build, PROBLEM } from '../helpers/in-memory-app.js';

const LIMIT = 3;

const deposit = (id: string, accountId = 'acct-1') => ({ method: 'POST' as const, url: `/v1/accounts/${accountId}/deposits`, payload: { id, amount: 5 } });

/** Waits until `done` holds, looking again on every turn of the event loop; fails past the deadline. */
async function until(done: () => boolean | Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The app with admission control, its producer holding every message until the test confirms it. */
async function heldApp(t: Test, limit = LIMIT, auth?: ApiKeyAuth) {
  let queued = 0;
  const built = await build(t, {
    ...(auth ? { auth } : {}),
    admission: { maxCallsInFlight: limit, producerQueued: () => queued, producerHighWater: 10 },
    // No held call may reach its deadline (it would answer 202 rather than its decision).
    decisionTimeoutMs: 600_000,
  });
  built.log.holding = true;
  return { ...built, admission: built.admission!, setQueued: (n: number) => (queued = n) };
}

t.test('the call past the limit is refused at once with Retry-After, and nothing of it is produced', async (t) => {
  const { app, log, admission } = await heldApp(t);
  const held = ['h1', 'h2', 'h3'].map((id) => app.inject(deposit(id)));
  await until(() => log.sent.length === LIMIT);
  t.equal(admission.callsInFlight, LIMIT, 'the limit is reached');

  const refused = await app.inject(deposit('x1', 'acct-2'));
  t.equal(refused.statusCode, 503);
  t.match(refused.headers['content-type'], PROBLEM);
  t.equal(refused.headers['retry-after'], '1');
  t.same(refused.json(), {
    type: 'urn:teller:problem:overloaded',
    title: 'Service Unavailable',
    status: 503,
    detail: 'the service is taking more calls than it can answer now; nothing was accepted and a retry with the same id is safe',
    reason: 'calls_in_flight',
    retryAfter: 1,
  });
  const compatibility = await app.inject({ method: 'POST', url: '/transaction', payload: { id: 'x2', type: 'deposit', amount: 5, accountId: 'acct-2' } });
  t.equal(compatibility.statusCode, 503, 'the compatibility route is bounded too');
  const settings = await app.inject({ method: 'PUT', url: '/v1/accounts/acct-2', payload: { id: 'x3', overdraftLimit: 10 } });
  t.equal(settings.statusCode, 503, 'and a settings change, a write too');
  t.same(log.sent.map((m) => m.id), ['h1', 'h2', 'h3'], 'nothing of the refused calls reached the log');

  log.confirmHeld();
  for (const r of await Promise.all(held)) t.equal(r.statusCode, 200, 'the held calls are answered');
  t.equal(admission.callsInFlight, 0, 'every slot is given back');

  log.holding = false;
  const retry = await app.inject(deposit('x1', 'acct-2'));
  t.equal(retry.statusCode, 200, 'a retry with the refused id is taken as a new call');
  t.notOk(retry.headers['idempotent-replayed'], 'not a replay: the refused call left nothing behind');
});

t.test('once a call ends, a new one is admitted, and held to the limit again', async (t) => {
  const { app, log, admission } = await heldApp(t);
  const first = ['a1', 'a2', 'a3'].map((id) => app.inject(deposit(id)));
  await until(() => log.sent.length === LIMIT);
  t.equal((await app.inject(deposit('a4'))).statusCode, 503, 'full');

  log.confirmHeld(1);
  t.equal((await first[0]!).statusCode, 200, 'the oldest call ends');
  t.equal(admission.callsInFlight, LIMIT - 1);
  const next = app.inject(deposit('a5'));
  await until(() => log.sent.length === LIMIT + 1);
  t.equal(log.sent.at(-1)?.id, 'a5', 'the next call is taken');
  t.equal(admission.callsInFlight, LIMIT);
  t.equal((await app.inject(deposit('a6'))).statusCode, 503, 'and the one after it refused again');

  log.confirmHeld();
  t.same((await Promise.all([...first.slice(1), next])).map((r) => r.statusCode), [200, 200, 200]);
  t.equal(admission.callsInFlight, 0);
});

t.test('reads, health, metrics and the documents are never refused', async (t) => {
  const { app, log, accounts, admission } = await heldApp(t, 1);
  accounts.set('acct-1', { accountId: 'acct-1', balance: 5, reserved: 0, updatedAt: 0 });
  const held = app.inject(deposit('h1'));
  await until(() => log.sent.length === 1);
  t.equal(admission.callsInFlight, 1, 'the limit is reached');
  const reads: [string, number][] = [
    ['/v1/accounts/acct-1', 200],
    ['/account/acct-1', 200],
    ['/v1/accounts/acct-9', 404],
    ['/v1/transactions/h1', 404],
    ['/v1/accounts/acct-1/transactions', 200],
    ['/healthz', 200],
    ['/readyz', 200],
    ['/openapi.json', 200],
  ];
  for (const [url, status] of reads) t.equal((await app.inject({ method: 'GET', url })).statusCode, status, `GET ${url}`);
  t.equal((await app.inject(deposit('x1'))).statusCode, 503, 'while writes are refused');

  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /teller_calls_in_flight\{replica="test"\} 1\n/, 'the gauge reads the calls in flight');
  t.match(metrics, /teller_calls_refused_total\{reason="calls_in_flight",replica="test"\} 1\n/, 'the refusal is counted by reason');
  log.confirmHeld();
  t.equal((await held).statusCode, 200);
});

t.test("past the producer queue's high-water mark every write is refused, before the limit", async (t) => {
  const { app, log, admission, setQueued } = await heldApp(t);
  log.holding = false;
  setQueued(10);
  const r = await app.inject(deposit('q1'));
  t.equal(r.statusCode, 503);
  t.equal(r.headers['retry-after'], '1');
  t.match(r.json(), { type: 'urn:teller:problem:overloaded', reason: 'producer_queue', retryAfter: 1 });
  t.same(log.sent, [], 'nothing produced');
  t.equal(admission.callsInFlight, 0, 'no slot taken');
  setQueued(9);
  t.equal((await app.inject(deposit('q1'))).statusCode, 200, 'below the mark the same call is taken');
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /teller_calls_refused_total\{reason="producer_queue",replica="test"\} 1\n/);
});

t.test('the high-water mark leaves room under the hard limit, and is never zero', async (t) => {
  t.equal(producerHighWater(20_000), 16_000);
  t.equal(producerHighWater(1), 1);
  t.ok(producerHighWater(100) < 100);
});

t.test('a slot comes back when a call is refused for its input, or its submission fails', async (t) => {
  const { app, log, admission } = await heldApp(t, 1);
  log.holding = false;
  for (let i = 0; i < 3; i++) {
    const invalid = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: `bad${i}`, amount: -1 } });
    t.equal(invalid.statusCode, 400, 'refused by its schema');
  }
  log.refusing = true;
  const unsent = await app.inject(deposit('u1'));
  t.equal(unsent.statusCode, 503, 'the producer refused it');
  t.match(unsent.json(), { type: 'urn:teller:problem:unavailable' });
  log.refusing = false;
  t.equal(admission.callsInFlight, 0);
  t.equal((await app.inject(deposit('ok1'))).statusCode, 200, 'the one slot is free');
});

t.test('a client that leaves: the slot comes back at once before the handler, once the handler ends after', async (t) => {
  const { app, log, admission } = await heldApp(t, 1);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const send = (text: string) =>
    new Promise<ReturnType<typeof connect>>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(text);
        resolve(socket);
      });
      socket.on('error', () => undefined);
    });

  // Headers and half a body, then gone: admitted, never handled.
  const body = JSON.stringify({ id: 'p1', amount: 5 });
  const partial = await send(`POST /v1/accounts/acct-1/deposits HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
  await until(() => admission.callsInFlight === 1);
  partial.destroy();
  await until(() => admission.callsInFlight === 0);
  t.pass('the slot came back when the connection closed');

  // A whole call, held in the producer, then gone: the slot stays until its handler ends.
  const whole = await send(`POST /v1/accounts/acct-1/deposits HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
  await until(() => log.sent.length === 1);
  whole.destroy();
  const connections = () => new Promise<number>((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  await until(async () => (await connections()) === 0);
  t.equal(admission.callsInFlight, 1, 'the server saw the connection close; its message is still in the producer, so the slot is held');
  log.confirmHeld();
  await until(() => admission.callsInFlight === 0);
  t.pass('given back once the handler ended');
});

t.test('API keys are checked first: a call without a valid key is a 401 whatever the load, and takes no slot', async (t) => {
  const key = mintKey();
  const { app, log, admission } = await heldApp(t, 1, new ApiKeyAuth(parseApiKeys(apiKeyEntry(key))));
  const authorized = { authorization: `Bearer ${key}` };
  const held = app.inject({ ...deposit('h1'), headers: authorized });
  await until(() => log.sent.length === 1);
  t.equal((await app.inject(deposit('x1'))).statusCode, 401, 'no key: 401, not 503');
  t.equal((await app.inject({ ...deposit('x2'), headers: authorized })).statusCode, 503, 'with a key: refused for load');
  log.confirmHeld();
  t.equal((await held).statusCode, 200);
  t.equal((await app.inject(deposit('x3'))).statusCode, 401);
  t.equal(admission.callsInFlight, 0, 'a 401 holds no slot');
  log.holding = false;
  t.equal((await app.inject({ ...deposit('x3'), headers: authorized })).statusCode, 200);
});

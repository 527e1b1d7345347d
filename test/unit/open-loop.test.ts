// The open-loop sender of the overload phase and the overload chaos case (scripts/shared/open-loop.ts)
// against a local server: every call of the schedule is sent or counted as
// not sent, never more than `connections` at once whatever the server does,
// and a 503's problem type and each answer's Retry-After are read.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import { OpenLoop, problemTypeOf, type CallListener, type OpenLoopCall } from '../../scripts/shared/open-loop.js';

async function serve(t: Test, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function tally() {
  const seen = { sent: 0, unsent: 0, statuses: [] as number[], types: [] as (string | undefined)[], retryAfters: [] as (string | undefined)[], timeouts: 0, errors: 0 };
  const listener: CallListener<OpenLoopCall> = {
    sent: () => void seen.sent++,
    unsent: () => void seen.unsent++,
    answered: (_call, status, _latency, type, retryAfter) => {
      seen.statuses.push(status);
      seen.types.push(type);
      seen.retryAfters.push(retryAfter);
    },
    failed: (_call, timeout) => void (timeout ? seen.timeouts++ : seen.errors++),
  };
  return { seen, listener };
}

const call = (): OpenLoopCall => ({ path: '/transaction', body: '{"id":"x"}' });

t.test('a server that holds every call: only `connections` are sent, the rest counted unsent, the held ones time out', async (t) => {
  const url = await serve(t, () => undefined);
  const loop = new OpenLoop({ url, connections: 5, headers: { 'content-type': 'application/json' }, timeoutMs: 300 });
  t.teardown(() => loop.close());
  const { seen, listener } = tally();
  await loop.run(1000, 0.05, call, listener);
  t.equal(seen.sent, 5, 'as many sent as there are connections');
  t.equal(seen.unsent, 45, 'the schedule went on: the other 45 were due and not sent');
  t.equal(seen.timeouts, 5, 'the held calls timed out');
  t.same(seen.statuses, []);
  t.equal(loop.inFlight, 0);
});

t.test('every call of the schedule is sent or counted, and each answer comes back with its 503 type and its Retry-After', async (t) => {
  let n = 0;
  const url = await serve(t, (_req, res) => {
    if (n++ % 2 === 0) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"applied"}');
    } else {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
      res.end('{"type":"urn:teller:problem:overloaded","status":503}');
    }
  });
  const loop = new OpenLoop({ url, connections: 20, headers: { 'content-type': 'application/json' }, timeoutMs: 10_000 });
  t.teardown(() => loop.close());
  const { seen, listener } = tally();
  await loop.run(400, 0.1, call, listener);
  t.equal(seen.sent + seen.unsent, 40, 'the whole schedule');
  t.equal(seen.statuses.length, seen.sent, 'every call sent is answered');
  t.ok(seen.sent > 0);
  t.ok(seen.statuses.includes(503) && seen.statuses.includes(200), 'both answers seen');
  seen.statuses.forEach((status, i) => {
    t.equal(seen.types[i], status === 503 ? 'urn:teller:problem:overloaded' : undefined);
    t.equal(seen.retryAfters[i], status === 503 ? '1' : undefined, 'the Retry-After the server sent, if any');
  });
});

t.test("a problem's type, or none", async (t) => {
  t.equal(problemTypeOf('{"type":"urn:teller:problem:unavailable"}'), 'urn:teller:problem:unavailable');
  t.equal(problemTypeOf('<html>503</html>'), undefined);
  t.equal(problemTypeOf('{"type":5}'), undefined);
});

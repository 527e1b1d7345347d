// One frame of `npm run top` (scripts/operations/top-frame.ts): every figure
// in its place, styles only when asked for, and what needs an operator in red.
import t from 'tap';
import { bytes, count, duration, perSecond, renderFrame, type FrameOptions } from '../../scripts/operations/top-frame.js';
import type { Figures } from '../../scripts/operations/top-figures.js';

const plain: FrameOptions = { color: false, partitions: 6, sessionTimeoutSeconds: 6 };

const healthy: Figures = {
  at: Date.UTC(2024, 0, 2, 3, 4, 5),
  seconds: 2,
  calls: [
    { label: 'decided applied', perSecond: 700 },
    { label: 'decided denied', perSecond: 12.5 },
  ],
  httpStatuses: [{ label: '200', perSecond: 712.5 }],
  routes: [
    { method: 'POST', route: '/v1/accounts/:accountId/deposits', perSecond: 700, p99Seconds: 0.0123 },
    { method: 'GET', route: '/v1/accounts/:accountId', perSecond: 0.5, p99Seconds: 1.5 },
  ],
  decisions: [
    { label: 'applied', perSecond: 700 },
    { label: 'replayed', perSecond: 0 },
  ],
  apis: [{ name: 'api-1', kind: 'api', kafkaFailing: false, queued: 0, waiting: 3, rssBytes: 80 * 1024 * 1024, heapUsedBytes: 30 * 1024 * 1024 }],
  consumers: [
    { name: 'consumer-1', kind: 'consumer', owned: 6, warm: 0, lag: 12, decisionsPerSecond: 700, idsRetained: 1234567, heartbeatAgeSeconds: 0.4, rssBytes: 120 * 1024 * 1024 },
    { name: 'consumer-2', kind: 'consumer', owned: 0, warm: 6, lag: 0, decisionsPerSecond: 0, idsRetained: 0, heartbeatAgeSeconds: 1.2 },
  ],
  partitionsOwned: 6,
};

/** The line that starts (after its indent) with `start`, split into its columns. */
function row(frame: string, start: string): string[] {
  const line = frame.split('\n').find((l) => l.trimStart().startsWith(start));
  return line === undefined ? [] : line.trim().split(/ {2,}/);
}

t.test('formats', async (t) => {
  t.equal(perSecond(12.345), '12.3');
  t.equal(perSecond(undefined), '-');
  t.equal(duration(0.0123), '12.3 ms');
  t.equal(duration(2.5), '2.50 s');
  t.equal(duration(Infinity), 'over the top bucket');
  t.equal(duration(undefined), '-');
  t.equal(bytes(80 * 1024 * 1024), '80.0 MiB');
  t.equal(count(1234567), '1,234,567');
});

t.test('a healthy stack: every figure in its row', async (t) => {
  const frame = renderFrame(healthy, plain);
  t.notMatch(frame, /\x1b\[/, 'no escape without color');
  t.match(frame, /^Teller top {2}2024-01-02 03:04:05 UTC {2}1 api replicas, 2 consumers\n/);
  t.match(frame, /KAFKA {2}sends ok; heartbeats taken; partitions owned 6 of 6/);
  t.match(frame, /CALLS A SECOND BY OUTCOME {2}total 712\.5/);
  t.strictSame(row(frame, 'decided applied'), ['decided applied', '700.0']);
  t.match(frame, /REQUESTS A SECOND BY HTTP STATUS {2}total 712\.5/);
  t.match(frame, /P99 BY ROUTE over the last 2\.0 s/);
  t.strictSame(row(frame, 'POST /v1/accounts/:accountId/deposits'), ['POST /v1/accounts/:accountId/deposits', '700.0', '12.3 ms']);
  t.strictSame(row(frame, 'GET /v1/accounts/:accountId'), ['GET /v1/accounts/:accountId', '0.5', '1.50 s']);
  t.match(frame, /DECISIONS A SECOND BY STATUS {2}total 700\.0/);
  t.strictSame(row(frame, 'consumer-1'), ['consumer-1', '6', '0', '12', '700.0', '1,234,567', '0.4 s ago']);
  t.strictSame(row(frame, 'consumer-2'), ['consumer-2', '0', '6', '0', '0.0', '0', '1.2 s ago']);
  t.strictSame(row(frame, 'api-1'), ['api-1', 'ok', '0', '3']);
  const memory = frame.slice(frame.indexOf('MEMORY'));
  t.strictSame(row(memory, 'api-1'), ['api-1', '80.0 MiB', '30.0 MiB']);
  t.strictSame(row(memory, 'consumer-2'), ['consumer-2', '-', '-']);
});

t.test('columns line up', async (t) => {
  const frame = renderFrame(healthy, plain);
  const lines = frame.split('\n');
  const header = lines.find((l) => l.includes('decisions/s'))!;
  const c1 = lines.find((l) => l.trimStart().startsWith('consumer-1'))!;
  t.equal(c1.indexOf('0.4 s ago') + '0.4 s ago'.length, header.indexOf('heartbeat') + 'heartbeat'.length, 'numbers end under their heading');
});

t.test('trouble in red: Kafka sends failing, a late heartbeat, partitions without an owner, a process not answering', async (t) => {
  const troubled: Figures = {
    ...healthy,
    apis: [{ ...healthy.apis[0]!, kafkaFailing: true }, { name: 'api-2', kind: 'api', unreachable: 'connect ECONNREFUSED', kafkaFailing: false, queued: 0, waiting: 0 }],
    consumers: [{ ...healthy.consumers[0]!, heartbeatAgeSeconds: 9, owned: 4 }],
    partitionsOwned: 4,
  };
  const text = renderFrame(troubled, plain);
  t.match(text, /KAFKA {2}sends failing on api-1; no heartbeat taken within the session timeout: consumer-1; partitions owned 4 of 6/);
  t.strictSame(row(text, 'api-1'), ['api-1', 'FAILING (503)', '0', '3']);
  t.strictSame(row(text, 'api-2'), ['api-2', 'unreachable: connect ECONNREFUSED']);
  const colored = renderFrame(troubled, { ...plain, color: true });
  const red = (s: string) => `\x1b[31m${s}\x1b[0m`;
  t.ok(colored.includes(red('sends failing on api-1')), 'failing sends in red');
  t.ok(colored.includes(red('partitions owned 4 of 6')), 'partitions without an owner in red');
  t.ok(colored.includes(red('9.0 s ago')), 'a heartbeat older than the session timeout in red');
  t.ok(colored.includes(red('unreachable: connect ECONNREFUSED')));
  t.ok(colored.includes('\x1b[1mKAFKA\x1b[0m'), 'headings in bold');
  t.notOk(renderFrame(healthy, { ...plain, color: true }).includes('\x1b[31m'), 'nothing red when all is well');
});

t.test('a first frame: gauges, and rates promised for the next', async (t) => {
  const first = renderFrame({ ...healthy, seconds: 0, calls: [], httpStatuses: [], routes: [], decisions: [] }, plain);
  t.match(first, /CALLS A SECOND BY OUTCOME\n {2}\(a rate needs a second scrape\)/);
  t.match(first, /P99 BY ROUTE\n {2}\(a quantile needs a second scrape\)/);
  t.strictSame(row(first, 'consumer-1').slice(0, 4), ['consumer-1', '6', '0', '12']);
  const quiet = renderFrame({ ...healthy, calls: [], routes: [] }, plain);
  t.match(quiet, /CALLS A SECOND BY OUTCOME {2}total 0\.0\n {2}none/);
  t.match(quiet, /P99 BY ROUTE over the last 2\.0 s\n {2}no calls/);
});

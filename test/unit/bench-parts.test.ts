// Smaller pure parts of the benchmark: flags, ApacheBench's report, the
// accept-path probe, consumer lag, and the takeover tracker.
import t from 'tap';
import { partitionOf } from '../../common/message.js';
import { parseAbOutput } from '../../scripts/benchmark/apache-bench.js';
import { judgeAcceptProbe } from '../../scripts/benchmark/accept-probe.js';
import { parseArgs, PHASES } from '../../scripts/benchmark/bench-options.js';
import { countRejoins } from '../../scripts/benchmark/backlog-drain.js';
import { lagOf } from '../../scripts/benchmark/lag-sampler.js';
import { accountForPartition, TakeoverTracker } from '../../scripts/benchmark/takeover-tracker.js';

t.test('flags and environment', async (t) => {
  const d = parseArgs([]);
  t.same(d.phases, [...PHASES]);
  t.equal(d.durationS, 30);
  t.equal(d.warmupS, 5);
  t.equal(d.connections, 150);
  t.equal(d.drainMessages, 1_000_000);
  t.equal(d.audit, true);
  const q = parseArgs(['--quick', '--phases', 'drain,contract']);
  t.same(q.phases, ['contract', 'drain'], 'in run order');
  t.equal(q.drainMessages, 20_000);
  t.equal(q.durationS, 5);
  t.equal(parseArgs(['--duration=60']).durationS, 60);
  t.equal(parseArgs([], { BENCH_DURATION_S: '12', BENCH_DRAIN_MESSAGES: '1_000' }).durationS, 12);
  t.equal(parseArgs([], { BENCH_DRAIN_MESSAGES: '1_000' }).drainMessages, 1000);
  t.equal(parseArgs(['--duration', '7'], { BENCH_DURATION_S: '12' }).durationS, 7, 'a flag wins over the environment');
  t.equal(parseArgs(['--warmup', '0']).warmupS, 0);
  t.equal(d.settleS, 60);
  t.equal(q.settleS, 3);
  t.equal(parseArgs(['--settle', '0']).settleS, 0, 'no settling');
  t.equal(parseArgs([], { BENCH_SETTLE_S: '45' }).settleS, 45);
  t.equal(parseArgs(['--no-audit', '--keep-stack']).keepStack, true);
  t.throws(() => parseArgs(['--phases', 'nope']), /unknown phase nope/);
  t.throws(() => parseArgs(['--frobnicate']), /unknown flag/);
  t.throws(() => parseArgs(['--duration']), /needs a value/);
  t.throws(() => parseArgs(['--duration', '0']), /integer >= 1/);
  t.throws(() => parseArgs(['stray']), /unexpected argument/);
});

const AB = `This is ApacheBench, Version 2.3
Concurrency Level:      150
Time taken for tests:   8.001 seconds
Complete requests:      40121
Failed requests:        3
Non-2xx responses:      7
Requests per second:    5014.33 [#/sec] (mean)
Percentage of the requests served within a certain time (ms)
  50%     28
  66%     31
  90%     41
  99%     63
 100%     92 (longest request)
`;

t.test("ApacheBench's report", async (t) => {
  t.same(parseAbOutput(AB), { rps: 5014.33, complete: 40121, failed: 3, non2xx: 7, p50_ms: 28, p90_ms: 41, p99_ms: 63, max_ms: 92 });
  t.throws(() => parseAbOutput('apr_socket_recv: Connection refused'), /not an ab report/);
});

t.test('the accept path is found by the OpenAPI document or by a 404', async (t) => {
  const listed = { status: 200, body: { paths: { '/v1/accounts/{accountId}/deposits': { post: {} } } } };
  t.equal(judgeAcceptProbe(listed, { status: 400 }).present, true);
  t.equal(judgeAcceptProbe({ status: 200, body: { paths: { '/transaction': { post: {} } } } }, { status: 400 }).present, false, 'a document without it');
  t.equal(judgeAcceptProbe({ status: 404 }, { status: 404 }).present, false);
  t.equal(judgeAcceptProbe({ status: 404 }, { status: 400 }).present, true, 'no document, but the route validates');
  t.equal(judgeAcceptProbe({ status: 0 }, undefined).present, false);
  t.equal(judgeAcceptProbe({ status: 502 }, { status: 503 }).present, false, 'a 5xx tells nothing');
  t.equal(judgeAcceptProbe({ status: 404 }, { status: 200 }).present, false, 'nor does a 2xx to an invalid body');
});

t.test('lag is high watermark minus committed, from the low watermark when nothing is committed', async (t) => {
  const high = [
    { partition: 0, high: '100', low: '0' },
    { partition: 1, high: '50', low: '10' },
    { partition: 2, high: '5', low: '0' },
  ];
  const { total, byPartition } = lagOf(high, [
    { partition: 0, offset: '90' },
    { partition: 1, offset: '-1' },
    { partition: 2, offset: '7' },
  ]);
  t.equal(total, 10 + 40 + 0);
  t.same([...byPartition], [
    [0, 10],
    [1, 40],
    [2, 0],
  ]);
});

t.test('probe accounts map to their partition', async (t) => {
  for (let p = 0; p < 12; p++) t.equal(partitionOf(accountForPartition(p, 12, 'probe1'), 12), p);
  t.equal(accountForPartition(3, 12, 'x'), accountForPartition(3, 12, 'x'), 'deterministic');
});

t.test('takeover: served after a run of decided answers, from the first of them', async (t) => {
  const k = 10_000;
  const tr = new TakeoverTracker(2, k, 3);
  tr.answer(0, k - 100, k + 50, 200); // sent before the kill: ignored
  t.equal(tr.served(0), false);
  for (const at of [100, 300, 500]) tr.answer(1, k + at, k + at + 5, 200);
  t.equal(tr.served(1), true);
  t.equal(tr.allServed, false);
  tr.answer(0, k + 100, k + 3100, 202); // waited out its deadline
  tr.answer(0, k + 4000, k + 6000, 200);
  tr.answer(0, k + 4200, k + 6001, 200);
  t.equal(tr.seconds(), null, 'not yet');
  t.same(tr.waiting(), [0]);
  tr.answer(0, k + 3900, k + 6900, 202); // sent before the run began, answered late: does not break it
  tr.answer(0, k + 4400, k + 6002, 200);
  t.equal(tr.allServed, true);
  t.same(tr.perPartition(), [6, 0.11]);
  t.equal(tr.seconds(), 6);
});

t.test('takeover: a stall after an early answer restarts the count', async (t) => {
  const k = 0;
  const tr = new TakeoverTracker(1, k, 2);
  tr.answer(0, 100, 150, 200); // answered before the rebalance
  tr.answer(0, 400, 3400, 202); // then stalled
  tr.answer(0, 8000, 8200, 200);
  tr.answer(0, 8200, 8300, 200);
  t.equal(tr.seconds(), 8.2);
  tr.answer(0, 9000, 9100, 0); // a transport error breaks the run too
  t.equal(tr.allServed, false);
});

t.test("the drain's consumers' group rejoins, counted from their logs", async (t) => {
  const log = [
    '{"msg":"consumer started"}',
    '{"error":"The group is rebalancing, so a rejoin is needed","msg":"The group is rebalancing, re-joining"}',
    '{"msg":"The coordinator is not aware of this member, re-joining the group"}',
  ].join('\n');
  t.equal(countRejoins(log), 2);
  t.equal(countRejoins(''), 0);
});

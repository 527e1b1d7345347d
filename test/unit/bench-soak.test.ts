// The soak phase's pure parts: its flags, the memory readings (/proc status,
// a consumer's metrics, Redis INFO), the figures from its samples (ids, bytes
// per id, their trend, the rate at the end against the start) and the
// statement's figures.
import t from 'tap';
import { ALL_PHASES, parseArgs, PHASES } from '../../scripts/benchmark/bench-options.js';
import type { ProcStat } from '../../scripts/benchmark/process-cpu.js';
import { componentRss, parseVmRss } from '../../scripts/benchmark/process-memory.js';
import { stackEnvironment } from '../../scripts/benchmark/bench-stack.js';
import { quietMs } from '../../scripts/benchmark/soak-phase.js';
import { bytesPerId, rateEndOverStart, rateWindowS, slope, soakMemoryFigures } from '../../scripts/benchmark/soak-figures.js';
import { consumerReading, MemoryTimeline, sampleIntervalS, usedMemoryOf, type ConsumerReading, type MemorySample } from '../../scripts/benchmark/soak-memory.js';
import { EXPIRY_GRACE_MS, horizonWaitMs, keysWithTtlNote, keysWithTtlOf } from '../../scripts/benchmark/soak-horizon.js';
import { statementAccounts, statementFigures } from '../../scripts/benchmark/statement-probe.js';
import { parsePrometheus } from '../../scripts/shared/prometheus-text.js';

t.test('the soak runs only when named, before the takeover; its duration and rate from flags or the environment', async (t) => {
  t.notOk(PHASES.includes('soak'), 'not in a plain run');
  t.same(parseArgs([]).phases, [...PHASES]);
  t.same(parseArgs(['--phases', 'takeover,soak']).phases, ['soak', 'takeover'], 'the takeover is measured after the soak');
  t.same(parseArgs(['--phases', 'soak']).phases, ['soak']);
  t.ok(ALL_PHASES.includes('soak'));
  const d = parseArgs([]);
  t.equal(d.soakDurationS, 600);
  t.equal(d.soakRate, 0, 'no cap by default');
  t.equal(d.soakStatements, 200);
  t.equal(parseArgs(['--quick']).soakDurationS, 20);
  t.equal(parseArgs(['--soak-duration', '120']).soakDurationS, 120);
  t.equal(parseArgs(['--soak-duration=90', '--soak-rate=5_000']).soakRate, 5000);
  t.equal(parseArgs([], { BENCH_SOAK_DURATION_S: '3600', BENCH_SOAK_RATE: '2000', BENCH_SOAK_STATEMENTS: '50' }).soakDurationS, 3600);
  t.equal(parseArgs([], { BENCH_SOAK_RATE: '2000' }).soakRate, 2000);
  t.equal(parseArgs([], { BENCH_SOAK_STATEMENTS: '50' }).soakStatements, 50);
  t.equal(parseArgs(['--soak-duration', '30'], { BENCH_SOAK_DURATION_S: '3600' }).soakDurationS, 30, 'a flag wins over the environment');
  t.equal(parseArgs(['--soak-rate', '0']).soakRate, 0);
  t.throws(() => parseArgs(['--soak-duration', '0']), /--soak-duration must be an integer >= 1/);
  t.throws(() => parseArgs(['--soak-rate', '-5']), /--soak-rate must be an integer >= 0/);
  t.throws(() => parseArgs(['--soak-rate', 'fast']), /--soak-rate must be an integer >= 0/);
  t.equal(d.soakHorizonWaitS, 900, 'Redis read again past a horizon up to 15 minutes off');
  t.equal(parseArgs(['--quick']).soakHorizonWaitS, 0, 'a smoke run does not wait for the horizon');
  t.equal(parseArgs(['--soak-horizon-wait', '120']).soakHorizonWaitS, 120);
  t.equal(parseArgs([], { BENCH_SOAK_HORIZON_WAIT_S: '60' }).soakHorizonWaitS, 60);
  t.throws(() => parseArgs(['--soak-horizon-wait', '-1']), /--soak-horizon-wait must be an integer >= 0/);
});

t.test('resident memory: VmRSS of every member of the process group', async (t) => {
  t.equal(parseVmRss('Name:\tredis-server\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\nThreads:\t5\n'), 2048 * 1024);
  t.equal(parseVmRss('Name:\tkworker\nThreads:\t1\n'), null, 'a kernel thread has none');
  const stat = (pid: number, pgrp: number) => ({ pid, pgrp }) as ProcStat;
  const stats = new Map([10, 11, 20].map((pid) => [pid, stat(pid, pid === 11 ? 10 : pid)]));
  const status = (pid: number) => (pid === 20 ? '' : `VmRSS:\t${pid * 100} kB\n`);
  t.equal(componentRss({ name: 'nginx', kind: 'nginx', pid: 10, group: true }, stats, status), (1000 + 1100) * 1024, 'the master and its worker');
  t.equal(componentRss({ name: 'x', kind: 'x', pid: 10, group: false }, stats, status), 1000 * 1024);
  t.equal(componentRss({ name: 'gone', kind: 'x', pid: 20, group: true }, stats, status), null, 'gone while being read');
  t.equal(componentRss({ name: 'down', kind: 'x', pid: undefined, group: true }, stats, status), null);
});

const METRICS = `# HELP nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.
nodejs_heap_size_used_bytes{consumer="consumer-1"} 300000000
nodejs_heap_space_size_used_bytes{space="new",consumer="consumer-1"} 40000000
nodejs_heap_space_size_used_bytes{space="old",consumer="consumer-1"} 250000000
nodejs_heap_space_size_used_bytes{space="new_large_object",consumer="consumer-1"} 1000000
teller_consumer_ids_remembered{partition="0",consumer="consumer-1"} 1000
teller_consumer_ids_remembered{partition="1",consumer="consumer-1"} 2500
teller_consumer_partitions_owned{consumer="consumer-1"} 2
teller_consumer_partitions_warm{consumer="consumer-1"} 0
`;

t.test("a consumer's reading: heap, heap without the young generation, ids over its partitions", async (t) => {
  t.same(consumerReading(parsePrometheus(METRICS)), { heapUsed: 300_000_000, heapRetained: 259_000_000, ids: 3500, owned: 2, warm: 0 });
  const standby = parsePrometheus('nodejs_heap_size_used_bytes 1000\nteller_consumer_partitions_owned 0\nteller_consumer_partitions_warm 6\n');
  t.same(consumerReading(standby), { heapUsed: 1000, heapRetained: 1000, ids: null, owned: 0, warm: 6 }, 'no gauge: null, not 0');
  const withFilter = parsePrometheus('nodejs_heap_size_used_bytes 1000\nnodejs_external_memory_bytes 500\n');
  t.equal(consumerReading(withFilter)?.heapRetained, 1500, 'memory held outside the heap for typed arrays (the id filter) counts');
  t.equal(consumerReading(parsePrometheus('teller_consumer_partitions_owned 1\n')), undefined, 'no default metrics: no reading');
  t.equal(usedMemoryOf('# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nused_memory_rss:2000000\r\n'), 1048576);
  t.equal(usedMemoryOf('# Memory\r\n'), null);
});

function reading(heapRetained: number, ids: number | null, owned: number): ConsumerReading {
  return { heapUsed: heapRetained + 50_000_000, heapRetained, ids, owned, warm: owned === 0 ? 6 : 0 };
}

function sample(at: number, consumers: Record<string, ConsumerReading>, redisUsed: number | null, collected: string[] = []): MemorySample {
  return { at, collected, rss: { 'api-1': 90e6, 'consumer-1': 400e6, 'consumer-2': 380e6, redis: 50e6 }, consumers, redisUsed };
}

t.test('bytes per id added, for the owner, the standby and Redis, with the trend over the run', async (t) => {
  const start = sample(1000, { 'consumer-1': reading(200e6, 1_000_000, 6), 'consumer-2': reading(190e6, 0, 0) }, 100e6);
  const middle = sample(61_000, { 'consumer-1': reading(203e6, 2_000_000, 6), 'consumer-2': reading(192e6, 0, 0) }, 104e6);
  const end = sample(121_000, { 'consumer-1': reading(206e6, 3_000_000, 6), 'consumer-2': reading(194e6, 0, 0) }, 108e6);
  const f = soakMemoryFigures(start, end, [start, middle, end], 1_999_000, 100.5e6);
  t.equal(f.ids, 3_000_000);
  t.equal(f.ids_before, 1_000_000);
  t.equal(f.ids_added, 2_000_000);
  t.equal(f.ids_source, 'teller_consumer_ids_remembered');
  t.same(f.bytes_per_id, { consumer: 3, standby: 2, redis: 33.5, redis_within_horizon: 4 }, 'Redis past the horizon: all of it over every id in the window; within it: the growth over the ids added');
  t.same(f.bytes_per_id_trend, { consumer: 3, standby: 2, redis: 4 });
  t.same(f.memory?.consumers['consumer-1'], { role: 'owner', heap_used_bytes: { start: 250e6, end: 256e6 }, heap_retained_bytes: { start: 200e6, end: 206e6 }, ids: { start: 1_000_000, end: 3_000_000 } });
  t.equal(f.memory?.consumers['consumer-2']?.role, 'standby');
  t.same(f.memory?.redis_used_bytes, { start: 100e6, end: 108e6, past_horizon: 100.5e6 });
  t.same(f.memory?.rss_bytes.redis, { start: 50e6, end: 50e6 });
  t.same(f.memory_timeline?.map((p) => p.t_s), [0, 60, 120]);
  t.same(f.memory_timeline?.[1], { t_s: 60, ids: 2_000_000, heap_retained_bytes: { 'consumer-1': 203e6, 'consumer-2': 192e6 }, redis_used_bytes: 104e6 });
  t.same(f.soak_notes, []);
  t.equal(f.heap_after_full_gc, false, 'heaps read as found');
});

t.test('the heaps count as read after a full collection only when every consumer collected, at both ends', async (t) => {
  const consumers = { 'consumer-1': reading(200e6, 1_000_000, 6), 'consumer-2': reading(190e6, 0, 0) };
  const both = ['consumer-1', 'consumer-2'];
  const figures = (startCollected: string[], endCollected: string[]) =>
    soakMemoryFigures(sample(0, consumers, 1, startCollected), sample(1, consumers, 1, endCollected), [], 0, null).heap_after_full_gc;
  t.equal(figures(both, both), true);
  t.equal(figures(both, ['consumer-1']), false, 'the standby did not collect at the end');
  t.equal(figures([], both), false, 'nothing collected at the start');
});

t.test('one consumer and no standby; a consumer without the gauge; a rebalance during the soak', async (t) => {
  const alone = soakMemoryFigures(sample(0, { 'consumer-1': reading(100, 10, 6) }, 10), sample(1, { 'consumer-1': reading(150, 20, 6) }, 30), [], 0, null);
  t.same(alone.bytes_per_id, { consumer: 5, standby: null, redis: null, redis_within_horizon: 2 }, 'no standby: null, not a failure; Redis not read past the horizon: null');
  t.same(alone.bytes_per_id_trend, { consumer: null, standby: null, redis: null }, 'too few samples for a trend');

  const noGauge = soakMemoryFigures(sample(0, { 'consumer-1': reading(100, null, 6) }, 10), sample(1, { 'consumer-1': reading(300, null, 6) }, 110), [], 100, 30);
  t.equal(noGauge.ids, null);
  t.equal(noGauge.ids_added, 100);
  t.equal(noGauge.ids_source, 'acknowledged calls');
  t.same(noGauge.bytes_per_id, { consumer: 2, standby: null, redis: null, redis_within_horizon: 1 }, 'no gauge: no ids in the window to count Redis over');

  const swapped = soakMemoryFigures(
    sample(0, { 'consumer-1': reading(100, 10, 6), 'consumer-2': reading(100, 0, 0) }, 10),
    sample(1, { 'consumer-1': reading(100, 0, 0), 'consumer-2': reading(200, 20, 6) }, 20),
    [],
    0,
    null,
  );
  t.match(swapped.soak_notes, [/consumer-1 owned partitions at the start and stood by at the end/, /consumer-2 stood by at the start and owned partitions at the end/]);

  const silent = soakMemoryFigures(sample(0, {}, null), sample(1, { 'consumer-1': reading(100, 10, 6) }, null), [], 5, 40);
  t.same(silent.bytes_per_id, { consumer: null, standby: null, redis: 4, redis_within_horizon: null }, 'no reading at the start: no figure but the one past the horizon');
  t.match(silent.soak_notes, [/consumer-1 did not answer its metrics port at the start/]);
});

t.test('bytes per id and least-squares slopes', async (t) => {
  t.equal(bytesPerId(1000, 1800, 100), 8);
  t.equal(bytesPerId(1000, 900, 100), -1, 'memory given back shows as negative');
  t.equal(bytesPerId(null, 900, 100), null);
  t.equal(bytesPerId(1000, 900, 0), null, 'no id added');
  t.equal(bytesPerId(1000, 900, null), null);
  t.equal(slope([[0, 10], [1, 12], [2, 14], [3, 16]]), 2);
  t.equal(slope([[0, 10], [1, 30], [2, 10], [3, 30]]), 4);
  t.equal(slope([[5, 1], [5, 2], [5, 3]]), null, 'no spread in ids');
  t.equal(slope([[0, 1], [1, 2]]), null);
});

t.test('the accepted rate at the end against the start', async (t) => {
  t.equal(rateWindowS(600), 60);
  t.equal(rateWindowS(3600), 60, 'a minute at most');
  t.equal(rateWindowS(120), 12, 'a tenth of a shorter run');
  t.equal(rateWindowS(5), 1);
  const perSecond = [50, 90, 100, 100, 100, 98, 96, 95, 90, 90, 90];
  t.same(rateEndOverStart(perSecond, 2, 3), { start: 100, end: 90, ratio: 0.9 }, 'the warm-up is left out');
  t.same(rateEndOverStart([0, 0, 0, 0], 0, 2), { start: 0, end: 0, ratio: null }, 'nothing accepted at the start: no ratio');
  t.same(rateEndOverStart([1, 2], 1, 2), { start: null, end: null, ratio: null }, 'shorter than a window');
  t.same(rateEndOverStart([3, 1, 2], 0, 3), { start: 2, end: 2, ratio: 1 }, 'windows may overlap on a short run');
});

t.test("the statement's figures count pages answered; accounts are the flow's, the same each run", async (t) => {
  const answers = [...Array.from({ length: 99 }, (_, i) => ({ status: 200, ms: i + 1 })), { status: 200, ms: 900 }, { status: 503, ms: 10_000 }, { status: 0, ms: 20_000 }];
  t.same(statementFigures(answers), { statement_p50_ms: 50, statement_p99_ms: 99, statement_calls: 102, statement_errors: 2 });
  t.same(statementFigures([]), { statement_p50_ms: null, statement_p99_ms: null, statement_calls: 0, statement_errors: 0 });
  const accounts = statementAccounts((n) => `a-${n}`, 10, 200);
  t.equal(accounts.length, 200);
  t.ok(accounts.every((a) => /^a-\d$/.test(a)), 'within the flow accounts');
  t.same(statementAccounts((n) => `a-${n}`, 10, 200), accounts);
  t.ok(new Set(accounts).size > 5, 'spread over the accounts');
});

t.test('memory samples: about a hundred a run, never two at once', async (t) => {
  t.equal(sampleIntervalS(20), 2);
  t.equal(sampleIntervalS(600), 6);
  t.equal(sampleIntervalS(86_400), 30);
  let calls = 0;
  let release = () => {};
  const timeline = new MemoryTimeline(() => {
    calls++;
    return new Promise<MemorySample>((resolve) => (release = () => resolve(sample(Date.now(), {}, null))));
  }, 5);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  timeline.start();
  await sleep(80);
  t.equal(calls, 1, 'a sample still running is not doubled');
  release();
  await sleep(80);
  t.equal(calls, 2, 'the next one starts once it is done');
  const stopping = timeline.stop();
  release();
  t.equal((await stopping).length, 2, 'stop waits for the sample in progress');
});

t.test("a stack the benchmark starts for a soak runs node with --expose-gc, once, after the operator's own flags", async (t) => {
  t.same(stackEnvironment(['soak'], { A: '1' }), { A: '1', TELLER_NODE_ARGS: '--expose-gc' });
  t.same(stackEnvironment(['soak', 'takeover'], { TELLER_NODE_ARGS: '--max-semi-space-size=16' }), { TELLER_NODE_ARGS: '--max-semi-space-size=16 --expose-gc' });
  t.same(stackEnvironment(['soak'], { TELLER_NODE_ARGS: '--expose-gc' }), { TELLER_NODE_ARGS: '--expose-gc' }, 'not twice');
  t.same(stackEnvironment(['contract'], { A: '1' }), { A: '1' }, 'no soak: the environment as it is');
});

t.test('a reading at rest waits a snapshot interval and 15 s once the consumers caught up, two minutes at most', async (t) => {
  t.equal(quietMs(30_000), 45_000, 'the default interval');
  t.equal(quietMs(1_000), 16_000);
  t.equal(quietMs(3_600_000), 120_000, 'capped');
});

t.test('Redis is read again once the outcome horizon and the grace have passed since the last write, if that is not too far off', async (t) => {
  const writesDoneAt = 1_000_000;
  t.equal(horizonWaitMs(writesDoneAt, 600, 900, writesDoneAt), 600_000 + EXPIRY_GRACE_MS, 'the whole horizon and the grace, in milliseconds');
  t.equal(horizonWaitMs(writesDoneAt, 600, 900, writesDoneAt + 100_000), 500_000 + EXPIRY_GRACE_MS, 'the time already spent counts');
  t.equal(horizonWaitMs(writesDoneAt, 60, 900, writesDoneAt + 200_000), 0, 'a horizon already past: no wait, not a negative one');
  t.equal(horizonWaitMs(writesDoneAt, 600, 600, writesDoneAt), null, 'further off than the longest wait: not read');
  t.equal(horizonWaitMs(writesDoneAt, 600, 0, writesDoneAt + 630_000), 0, 'a wait of 0 still reads a horizon already past');
  t.equal(horizonWaitMs(writesDoneAt, 600, 0, writesDoneAt), null, 'quick: no wait');
});

t.test('keys with a time to live, from INFO keyspace, and the note when many are left past the horizon', async (t) => {
  t.equal(keysWithTtlOf('# Keyspace\r\ndb0:keys=12000,expires=3,avg_ttl=1000\r\ndb9:keys=10,expires=7,avg_ttl=5\r\n'), 10);
  t.equal(keysWithTtlOf('# Keyspace\r\n'), 0);
  t.same(keysWithTtlNote(3, 1_000_000, 600), []);
  t.same(keysWithTtlNote(null, 1_000_000, 600), []);
  t.match(keysWithTtlNote(20_000, 1_000_000, 600), [/20000 keys still had a time to live past the horizon: is the stack's OUTCOME_TTL_SECONDS longer than 600 s\?/]);
});

// The benchmark's arithmetic: percentiles, ratios, rates, per-second series,
// and the recorder that keeps the warm-up out of the figures.
import t from 'tap';
import { isFailureStatus, Recorder } from '../../scripts/benchmark/load-recorder.js';
import { percentile, perSecond, perSecondFromCumulative, ratio, summarizeLatencies } from '../../scripts/benchmark/statistics.js';

t.test('nearest-rank percentiles', async (t) => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  t.equal(percentile(sorted, 50), 50);
  t.equal(percentile(sorted, 90), 90);
  t.equal(percentile(sorted, 99), 99);
  t.equal(percentile(sorted, 100), 100);
  t.equal(percentile(sorted, 0), 1);
  t.equal(percentile([7], 99), 7, 'one value is every percentile');
  t.equal(percentile([1, 2, 3, 4], 50), 2);
  t.equal(percentile([1, 2, 3, 4], 51), 3);
  t.ok(Number.isNaN(percentile([], 50)), 'none: NaN');
});

t.test('latency summaries sort, round and handle the empty case', async (t) => {
  const s = summarizeLatencies([5, 1, 4, 2, 3, 100]);
  t.same(s, { p50_ms: 3, p90_ms: 100, p99_ms: 100, max_ms: 100, mean_ms: 19.17 });
  t.same(summarizeLatencies([]), { p50_ms: null, p90_ms: null, p99_ms: null, max_ms: null, mean_ms: null });
  t.equal(summarizeLatencies(Float64Array.from([1.234567, 2])).p50_ms, 1.23);
});

t.test('ratio against a ceiling', async (t) => {
  t.equal(ratio(3000, 12000), 0.25);
  t.equal(ratio(1, 3), 0.333);
  t.equal(ratio(100, 0), null, 'no usable ceiling');
  t.equal(ratio(100, null), null);
  t.equal(ratio(null, 100), null);
  t.equal(ratio(100, Number.NaN), null);
  t.equal(perSecond(1000, 4), 250);
  t.equal(perSecond(10, 0), 0);
});

t.test('per-second increments of a cumulative count', async (t) => {
  const t0 = 10_000;
  const samples = [
    { t: t0 + 250, value: 0 },
    { t: t0 + 900, value: 100 },
    { t: t0 + 1500, value: 250 },
    { t: t0 + 2000, value: 300 },
    { t: t0 + 3100, value: 1000 },
  ];
  t.same(perSecondFromCumulative(samples, t0), [100, 200, 0, 700]);
  t.same(perSecondFromCumulative([], t0), []);
  t.same(perSecondFromCumulative([samples[4]!, samples[1]!], t0), [100, 0, 0, 900], 'order of samples does not matter');
});

t.test('the recorder counts the measured window only', async (t) => {
  const r = new Recorder(0, 1000);
  r.response(500, 200, 1); // warm-up: timeline only
  r.error(600, false);
  r.response(1000, 200, 10);
  r.response(1500, 201, 20);
  r.response(1600, 402, 30);
  r.response(2500, 503, 40);
  r.response(2600, 404, 50);
  r.error(2700, true);
  r.error(2800, false);
  r.close(3000);
  r.response(3500, 200, 1000); // after the window: timeline only
  const f = r.figures(10_000);
  t.equal(f.calls, 5);
  t.equal(f.seconds, 2);
  t.equal(f.rps, 2.5);
  t.equal(f.errors, 3, '503, 404 and one transport error; 402 is a decision');
  t.equal(f.timeouts, 1);
  t.same(f.status, { 200: 1, 201: 1, 402: 1, 404: 1, 503: 1 });
  t.same(f.non2xx, { 402: 1, 404: 1, 503: 1 });
  t.same(f.timeline, [1, 3, 2, 1]);
  t.equal(f.warmup_s, 1);
  t.equal(f.max_ms, 50);
  t.equal(f.p50_ms, 30);
});

t.test('the recorder grows past its first buffer and can open its window later', async (t) => {
  const r = new Recorder(0, 0);
  for (let i = 0; i < 100_000; i++) r.response(i / 100, 200, i % 100);
  t.equal(r.figures(1000).calls, 100_000);
  const late = new Recorder(0, 60_000);
  late.openAt(500);
  late.response(100, 200, 1);
  late.response(600, 200, 2);
  t.equal(late.figures(1000).calls, 1);
});

t.test('which statuses are failures', async (t) => {
  for (const s of [200, 201, 202, 402]) t.notOk(isFailureStatus(s), String(s));
  for (const s of [400, 404, 409, 429, 500, 502, 503, 504]) t.ok(isFailureStatus(s), String(s));
});

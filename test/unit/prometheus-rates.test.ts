// Two scrapes of a process and what they say about the interval between them
// (scripts/shared/prometheus-rates.ts): counter increases across a restart,
// sums by labels, and histogram quantiles as Prometheus computes them.
import t from 'tap';
import { bucketQuantile, increases, quantilesBy, seriesKey, sumBy, upperBound } from '../../scripts/shared/prometheus-rates.js';
import { parsePrometheus } from '../../scripts/shared/prometheus-text.js';

const sample = (name: string, labels: Record<string, string>, value: number) => ({ name, labels, value });

t.test('a series is its name and labels, whatever their order', async (t) => {
  t.equal(seriesKey(sample('x', { a: '1', b: '2' }, 0)), seriesKey(sample('x', { b: '2', a: '1' }, 5)));
  t.not(seriesKey(sample('x', { a: '1' }, 0)), seriesKey(sample('x', { a: '2' }, 0)));
  t.not(seriesKey(sample('x', {}, 0)), seriesKey(sample('y', {}, 0)));
});

t.test('increases: what each series rose by; a series new or fallen counts from zero', async (t) => {
  const before = parsePrometheus(`teller_outcomes_total{status="applied"} 10
teller_outcomes_total{status="denied"} 4
teller_outcomes_total{status="approved"} 9
other_total 100
`);
  const after = parsePrometheus(`teller_outcomes_total{status="applied"} 25
teller_outcomes_total{status="denied"} 4
teller_outcomes_total{status="approved"} 2
teller_outcomes_total{status="replayed"} 3
other_total 150
`);
  t.strictSame(
    increases(before, after, 'teller_outcomes_total').map((s) => [s.labels.status, s.value]),
    [
      ['applied', 15],
      ['denied', 0],
      ['approved', 2],
      ['replayed', 3],
    ],
    'approved fell from 9 to 2 (a restart): 2 since; replayed is new: 3 since',
  );
  t.strictSame(increases([], after, 'other_total'), [sample('other_total', {}, 150)], 'no earlier scrape of the series: all of it');
});

t.test('sums by labels, a missing label counting as empty', async (t) => {
  const samples = [sample('x', { result: 'decided', status: 'applied' }, 3), sample('x', { result: 'decided', status: 'denied' }, 1), sample('x', { result: 'decided', status: 'applied', replica: 'api-2' }, 2), sample('x', {}, 7)];
  t.strictSame(sumBy(samples, ['status']), [
    { labels: { status: 'applied' }, value: 5 },
    { labels: { status: 'denied' }, value: 1 },
    { labels: { status: '' }, value: 7 },
  ]);
  t.strictSame(sumBy(samples, []), [{ labels: {}, value: 13 }], 'no label: the total');
});

t.test("upper bounds, +Inf included", async (t) => {
  t.equal(upperBound('0.005'), 0.005);
  t.equal(upperBound('+Inf'), Infinity);
  t.ok(Number.isNaN(upperBound(undefined)));
});

t.test('quantiles from buckets, as histogram_quantile()', async (t) => {
  const buckets = [
    { le: 0.01, count: 50 },
    { le: 0.1, count: 90 },
    { le: 1, count: 100 },
    { le: Infinity, count: 100 },
  ];
  t.equal(bucketQuantile(0.5, buckets), 0.01, 'rank 50 is the top of the first bucket');
  t.equal(bucketQuantile(0.25, buckets), 0.005, 'interpolated from 0 inside the first bucket');
  t.equal(bucketQuantile(0.7, buckets), 0.01 + (0.1 - 0.01) * (20 / 40), 'interpolated inside the second bucket');
  t.equal(bucketQuantile(0.99, buckets), 0.1 + (1 - 0.1) * (9 / 10));
  t.equal(bucketQuantile(0.99, [...buckets].reverse()), bucketQuantile(0.99, buckets), 'the order given does not matter');
  t.equal(bucketQuantile(0.99, [{ le: 0.5, count: 1 }, { le: Infinity, count: 100 }]), 0.5, 'in the +Inf bucket: the largest finite bound');
  t.equal(bucketQuantile(0.99, [{ le: 0.5, count: 0 }, { le: Infinity, count: 0 }]), undefined, 'nothing observed');
  t.equal(bucketQuantile(0.99, [{ le: 0.5, count: 3 }, { le: 1, count: 3 }]), undefined, 'no +Inf bucket');
  t.equal(bucketQuantile(1.5, buckets), Infinity);
  t.equal(bucketQuantile(-1, buckets), -Infinity);
  t.equal(bucketQuantile(1, buckets), 0.1 + (1 - 0.1) * (10 / 10), 'q = 1: the bound of the last bucket reached');
  t.equal(
    bucketQuantile(0.5, [{ le: 0.01, count: 60 }, { le: 0.1, count: 55 }, { le: Infinity, count: 100 }]),
    bucketQuantile(0.5, [{ le: 0.01, count: 60 }, { le: 0.1, count: 60 }, { le: Infinity, count: 100 }]),
    'a bucket below the one before it is evened out',
  );
});

t.test('quantiles per route, buckets of several replicas summed', async (t) => {
  const text = (replica: string, fast: number, slow: number) => `teller_http_request_duration_seconds_bucket{le="0.01",route="/a",replica="${replica}"} ${fast}
teller_http_request_duration_seconds_bucket{le="0.1",route="/a",replica="${replica}"} ${fast + slow}
teller_http_request_duration_seconds_bucket{le="+Inf",route="/a",replica="${replica}"} ${fast + slow}
teller_http_request_duration_seconds_bucket{le="0.01",route="/b",replica="${replica}"} 0
teller_http_request_duration_seconds_bucket{le="0.1",route="/b",replica="${replica}"} 0
teller_http_request_duration_seconds_bucket{le="+Inf",route="/b",replica="${replica}"} 0
`;
  const buckets = parsePrometheus(text('api-1', 99, 0) + text('api-2', 0, 1));
  const [a, b] = quantilesBy(buckets, 0.99, ['route']);
  t.strictSame(a?.labels, { route: '/a' });
  t.equal(a?.count, 100, 'both replicas counted');
  t.equal(a?.value, 0.01, "rank 99 of 100: the first bucket's bound, though one replica alone would say 0.1");
  t.strictSame(b, { labels: { route: '/b' }, value: undefined, count: 0 }, 'a route not called in the interval has no quantile');
});

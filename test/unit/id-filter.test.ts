// The id filter of a partition's window (consumer/id-filter.ts): it never says
// "no" for an id it holds while the id is in the window, it says "maybe" for
// others about as rarely as it was made to, whole slices leave with the
// window, and it reads back from its bytes answering the same.
import t from 'tap';
import { IdFilter, MIN_CAPACITY, SLICES_PER_WINDOW } from '../../consumer/id-filter.js';

const key = (n: number) => `acc-${n % 97}/tx-${n}`;
const other = (n: number) => `acc-${n % 89}/other-${n}`;

/** Share of `probes` ids never added that the filter answers "maybe" for. */
function falsePositiveRate(filter: IdFilter, probes: number): number {
  let hits = 0;
  for (let n = 0; n < probes; n++) if (filter.mayContain(other(n))) hits++;
  return hits / probes;
}

t.test('every id added is found while its slice lives', async (t) => {
  const windowMs = 8_000;
  const filter = new IdFilter(windowMs);
  const added: [string, number][] = [];
  let missed = 0;
  for (let at = 0; at < 24_000; at += 3) {
    const k = key(at);
    filter.add(k, at);
    added.push([k, at]);
    filter.forgetBefore(at - windowMs);
    // Every id still in the window, checked every so often.
    if (at % 999 === 0) for (const [old, when] of added) if (when >= at - windowMs && !filter.mayContain(old)) missed++;
  }
  t.equal(missed, 0, 'no false negative within the window');
});

t.test('one full sub-filter answers "maybe" for an id it lacks about once in 2,000', async (t) => {
  const filter = new IdFilter(8_000);
  for (let n = 0; n < MIN_CAPACITY; n++) filter.add(key(n), 0);
  const rate = falsePositiveRate(filter, 200_000);
  // Design: (1 - e^(-11/16))^11, 4.6e-4.
  t.ok(rate > 2e-4 && rate < 9e-4, `false positives ${rate}`);
});

t.test('a slice that outgrows its design count grows a sub-filter, and stays near design', async (t) => {
  const filter = new IdFilter(8_000);
  const ids = 20 * MIN_CAPACITY;
  for (let n = 0; n < ids; n++) filter.add(key(n), 0);
  for (let n = 0; n < ids; n++) if (!filter.mayContain(key(n))) t.fail(`lost ${key(n)}`);
  // Five sub-filters (1, 2, 4, 8, 16 times the first), four of them full.
  t.equal(filter.bytes, (31 * MIN_CAPACITY * 16) / 8, 'sub-filters of doubling capacity');
  t.ok(falsePositiveRate(filter, 100_000) < 4 * 9e-4, 'about the sum of its full sub-filters');
});

t.test('a slice is sized from the one before it, so a steady rate costs a few bytes an id', async (t) => {
  const windowMs = 8_000;
  const filter = new IdFilter(windowMs);
  for (let at = 0; at < 2 * windowMs; at++) {
    for (let i = 0; i < 40; i++) filter.add(key(at * 40 + i), at);
    filter.forgetBefore(at - windowMs);
  }
  const inWindow = filter.countSince(2 * windowMs - 1 - windowMs);
  t.ok(Math.abs(inWindow - 40 * windowMs) <= (40 * windowMs) / SLICES_PER_WINDOW / 8, `counted ${inWindow} ids in the window`);
  t.ok(filter.bytes / inWindow <= 4, `${(filter.bytes / inWindow).toFixed(2)} bytes an id`);
  t.ok(falsePositiveRate(filter, 100_000) < 3e-3, 'false positives stay rare');
});

t.test('whole slices leave once their span is past the window, not before', async (t) => {
  const windowMs = 8_000;
  const width = windowMs / SLICES_PER_WINDOW;
  const filter = new IdFilter(windowMs);
  filter.add('a/early', 10);
  filter.add('a/later', width + 10);
  filter.forgetBefore(width - 1);
  t.ok(filter.mayContain('a/early'), 'its slice ends after the horizon: kept');
  filter.forgetBefore(width);
  t.notOk(filter.mayContain('a/early'), 'its slice ended at the horizon: gone');
  t.ok(filter.mayContain('a/later'), 'the next slice stays');
  t.equal(filter.countSince(0), 1, 'its count went with it');
});

t.test('the bytes read back into a filter that answers the same and writes the same bytes', async (t) => {
  const windowMs = 8_000;
  const filter = new IdFilter(windowMs);
  for (let n = 0; n < 5_000; n++) filter.add(key(n), n * 3);
  const bytes = filter.serialize();
  const restored = IdFilter.deserialize(bytes);
  t.same(restored.serialize(), bytes, 'the same bytes');
  for (let n = 0; n < 5_000; n++) if (restored.mayContain(other(n)) !== filter.mayContain(other(n))) t.fail(`answers differ on ${other(n)}`);
  restored.add('x/new', 15_000);
  filter.add('x/new', 15_000);
  t.same(restored.serialize(), filter.serialize(), 'and grows alike');
  t.equal(restored.width, windowMs / SLICES_PER_WINDOW, 'with the slices it was made with');
  t.throws(() => IdFilter.deserialize(bytes.subarray(0, bytes.length - 1)), /bytes/, 'cut short: refused');
});

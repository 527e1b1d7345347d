// Every metric the Grafana dashboard charts (scripts/operations/monitoring/
// grafana/dashboards/teller.json) is exposed by the running stack: each api
// replica's /metrics and each consumer's metrics port are scraped (public on
// loopback, no API key) after a deposit and a denied withdrawal request through
// every replica, so that the labelled series exist; a histogram charted by its
// _bucket shows its _sum and _count too; and every process of a kind declares
// the charted families that kind serves.
import t from 'tap';
import { chartedMetrics, readDashboard } from '../../scripts/operations/monitoring/dashboard-queries.js';
import { declaredFamilies, parsePrometheus, sampleNames } from '../../scripts/shared/prometheus-text.js';
import { uniq } from '../helpers/http.js';
import { readStack, waitFor, type ComponentInfo } from '../helpers/stack.js';
import { call } from '../helpers/v1.js';

const stack = readStack();
const host = new URL(stack.url).hostname;
const apis = stack.components.filter((c) => c.kind === 'api');
const consumers = stack.components.filter((c) => c.kind === 'consumer');
const charted = chartedMetrics(readDashboard());

interface Scraped {
  component: ComponentInfo;
  /** Names that have at least one sample now. */
  sampled: Set<string>;
  /** Families the exposition declares, by type, samples or not. */
  families: Map<string, string>;
}

async function scrape(component: ComponentInfo): Promise<Scraped> {
  const res = await fetch(`http://${host}:${component.port}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`${component.name}: GET /metrics answered ${res.status}`);
  const text = await res.text();
  return { component, sampled: new Set(parsePrometheus(text).map((s) => s.name)), families: declaredFamilies(text) };
}

const scrapeAll = () => Promise.all([...apis, ...consumers].map(scrape));

/** The charted names no process has a sample of yet. */
function notSampled(all: Scraped[]): string[] {
  return [...charted.keys()].filter((name) => !all.some((s) => s.sampled.has(name)));
}

t.test('the stack has api replicas and consumers, each with its metrics port', async (t) => {
  t.ok(apis.length > 0, `${apis.length} api replicas`);
  t.ok(consumers.length > 0, `${consumers.length} consumers`);
  for (const c of [...apis, ...consumers]) t.ok(c.port, `${c.name} has a port in stack.json`);
});

t.test('every charted metric is exposed by the running stack', async (t) => {
  t.ok(charted.size > 0, `${charted.size} metrics charted`);
  for (const api of apis) {
    const direct = `http://${host}:${api.port}`;
    const a = uniq('dashboard');
    t.equal((await call('POST', `/v1/accounts/${a}/deposits`, { id: `${a}-d`, amount: 5 }, {}, direct)).status, 200, `${api.name}: a deposit`);
    t.equal((await call('POST', `/v1/accounts/${a}/withdrawal-requests`, { id: `${a}-r`, amount: 50 }, {}, direct)).status, 402, `${api.name}: a denial`);
  }

  let all: Scraped[] = [];
  const missing = await waitFor(
    async () => {
      all = await scrapeAll();
      return notSampled(all).length === 0 ? [] : undefined;
    },
    { what: 'a sample of every charted metric', timeoutMs: 20_000, intervalMs: 500 },
  ).catch(() => notSampled(all));
  t.strictSame(missing, [], 'no charted metric without a sample in the stack');
  for (const [name, panels] of charted) t.ok(all.some((s) => s.sampled.has(name)), `${name} (${panels.join('; ')})`);

  for (const name of charted.keys()) {
    const owner = all.find((s) => s.sampled.has(name));
    const histogram = [...(owner?.families ?? [])].find(([family, type]) => type === 'histogram' && sampleNames(family, type).includes(name));
    if (!histogram) continue;
    for (const series of sampleNames(...histogram)) t.ok(owner!.sampled.has(series), `${owner!.component.name}: ${name} comes with ${series}`);
  }
});

t.test('every process of a kind declares the charted families its kind serves', async (t) => {
  const all = await scrapeAll();
  for (const kind of ['api', 'consumer'] as const) {
    const ofKind = all.filter((s) => s.component.kind === kind);
    const declared = (s: Scraped) => new Set([...s.families].flatMap(([family, type]) => sampleNames(family, type)));
    const served = [...charted.keys()].filter((name) => ofKind.some((s) => declared(s).has(name)));
    t.ok(served.length > 0, `${kind}: ${served.length} charted names served`);
    for (const s of ofKind) {
      const own = declared(s);
      t.strictSame(
        served.filter((name) => !own.has(name)),
        [],
        `${s.component.name} declares every charted family of its kind, a consumer standing by included`,
      );
    }
  }
});

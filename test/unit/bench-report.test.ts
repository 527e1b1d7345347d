// The results rendered as markdown and as an SVG chart.
import t from 'tap';
import { renderMarkdown, phaseRow } from '../../scripts/benchmark/results-markdown.js';
import { emptyPhase, type BenchResult, type PhaseResult } from '../../scripts/benchmark/bench-result.js';
import { cumulative, escapeXml, niceMax, renderSvg } from '../../scripts/benchmark/results-svg.js';

function phase(name: string, over: Partial<PhaseResult>): PhaseResult {
  return { ...emptyPhase(name, `${name} phase`), ...over };
}

const result: BenchResult = {
  version: 1,
  started_at: '2026-11-23T20:00:00.000Z',
  finished_at: '2026-11-23T20:10:00.000Z',
  command: 'npm run bench -- --quick',
  git: { commit: '0123456789abcdef0123', dirty: false },
  machine: { cores: 2, cpu_model: 'Test CPU', memory_gib: 23.5, kernel: '6.1', node: 'v20', load_avg_at_start: [1, 0.5, 0.25] },
  config: { apiReplicas: 2, consumers: 2, partitions: 12 },
  options: { connections: 150 },
  stack: { url: 'http://127.0.0.1:8080', started_by_bench: false },
  phases: {
    ceiling: phase('ceiling', { rps: 12000, p50_ms: 10, p90_ms: 15, p99_ms: 28, max_ms: 120, status: { 200: 100 }, timeline: [5000, 12000, 12000], warmup_s: 1, cpu_seconds: { loadgen: 5, 'ceiling-api': 8, total: 13 }, cpu_wall_s: 10 }),
    'ceiling-ab': phase('ceiling-ab', { rps: 3000, p99_ms: 80, p50_ms: 40, p90_ms: 60, ab: { rps: 5600, complete: 1, failed: 0, non2xx: 0, p50_ms: 20, p90_ms: 30, p99_ms: 44, max_ms: 90 } }),
    contract: phase('contract', {
      rps: 4000.4,
      ratio: 0.333,
      ratio_of: 'ceiling',
      p50_ms: 34,
      p90_ms: 60,
      p99_ms: 99.5,
      max_ms: 300,
      errors: 1,
      timeouts: 2,
      status: { 200: 50, 201: 20, 202: 3, 402: 7 },
      peak_lag: 140,
      audit: { ok: true, violations: 0, checks: [], documents: 10, seconds: 1 },
      timeline: [100, 4000, 4000, 4000],
      warmup_s: 1,
      cpu_seconds: { api: 6, consumer: 4, kafka: 2, ferretdb: 3.5, redis: 0.2, nginx: 2, loadgen: 2.5, total: 20.2 },
      cpu_wall_s: 10,
    }),
    accept: phase('accept', { skipped: true, reason: 'the route does not exist yet' }),
    drain: phase('drain', { tps: 21000, rps: 21000, messages: 1_000_000, applied: 1_000_000, group_rejoins: 4, seconds: 47.6, produce_rate: 60000, first_commit_s: 2, tps_after_first_commit: 22000, peak_lag: 1_000_000, timeline: [0, 20000, 22000] }),
    takeover: phase('takeover', { rps: 3000, seconds: 7.25, killed: { name: 'consumer-1', pid: 123 }, audit: { ok: false, violations: 2, checks: [{ check: 'acknowledged', detail: 'x', ids: ['a'] }], documents: 1, seconds: 1 } }),
  },
};

t.test('markdown: a row per phase, the drain and takeover figures, the CPU table', async (t) => {
  const md = renderMarkdown(result);
  t.match(md, /^# Teller benchmark, 2026-11-23T20:00:00.000Z/);
  t.match(md, /`npm run bench -- --quick` at 0123456789ab;/);
  t.match(md, /\| contract \| 4,000 \| 33\.3% of ceiling \| 34\.0 \| 60\.0 \| 99\.5 \| 300 \| 1 \| 2 \| 202: 3, 402: 7 \| 140 \| ok \|/);
  t.match(md, /\| ceiling \| 12,000 \| - \| 10\.0 \| 15\.0 \| 28\.0 \| 120 \| 0 \| 0 \| - \| - \| - \|/);
  t.match(md, /\| accept \| skipped: the route does not exist yet \|/);
  t.match(md, /\| drain \| 21,000 tx\/s \|/);
  t.match(md, /\| takeover \| 3,000 .*\| 2 violations \(acknowledged\) \|/);
  t.match(md, /- drain: 1,000,000 of 1,000,000 messages applied in 47\.6 s .*\*\*21,000 transactions\/s\*\*.*rejoined their group 4 times/);
  t.match(md, /every partition served again \(decided 200s\) after \*\*7\.25 s\*\*/);
  t.match(md, /ApacheBench measures it: 5,600 calls\/s, p99 44\.0 ms/);
  t.match(md, /\| phase \| wall s \| api \| consumer \| kafka \| ferretdb \| redis \| nginx \| loadgen \| ceiling-api \| total \|/);
  t.match(md, /\| contract \| 10\.0 \| 6\.0 \(60%\) \| 4\.0 \(40%\) \| 2\.0 \(20%\) \| 3\.5 \(35%\) \| 0\.2 \(2%\) \| 2\.0 \(20%\) \| 2\.5 \(25%\) \| - \| 20\.2 \(202%\) \|/);
  // every table row has the header's column count
  for (const line of md.split('\n').filter((l) => l.startsWith('| ') && !l.includes('skipped'))) {
    const header = md.split('\n').find((l) => l.startsWith('| phase |') && (l.includes('calls/s') === line.includes('calls/s') || true));
    t.ok(header);
  }
  const audited = phaseRow(
    phase('y', {
      audit: {
        ok: false,
        violations: 3,
        checks: [
          { check: 'conservation', detail: '', ids: [] },
          { check: 'conservation', detail: '', ids: [] },
          { check: 'replay-extra', detail: '', ids: [] },
        ],
        documents: 1,
        seconds: 1,
      },
    }),
  );
  t.match(audited, /\| 3 violations \(conservation x2, replay-extra\) \|$/);
  t.match(renderMarkdown({ ...result, phases: { t: phase('t', { stack_problems: ['nginx'] }) } }), /- t: stack components restarted or down during the phase: nginx/);
  const row = phaseRow(phase('x', { error: 'boom' }));
  t.match(row, /^\| x \(failed: boom\) \| - \|/);
});

t.test('svg: one line per phase with a timeline, bars per phase with latencies, escaped text', async (t) => {
  const svg = renderSvg(result);
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, /<\/svg>\n$/);
  t.equal((svg.match(/<polyline /g) ?? []).length, 3, 'ceiling, contract and drain have timelines');
  t.match(svg, /Drain: messages applied \(committed\) since the consumers started/, 'the drain in a panel of its own, as a running total');
  t.same(cumulative([1, 2, 0, 3]), [1, 3, 3, 6]);
  t.match(svg, /height="940"/, 'three panels');
  t.match(svg, />contract<\/text>/);
  t.notMatch(svg, />accept</, 'skipped phases are not drawn');
  t.equal((svg.match(/<rect [^>]*><title>/g) ?? []).length, 3 * 3, 'p50/p90/p99 bars for the 3 phases with latencies');
  t.match(svg, /<title>contract p99: 99\.5 ms<\/title>/);
  t.notMatch(svg, /NaN|undefined/);
  // balanced tags (a cheap well-formedness check)
  t.equal((svg.match(/<text /g) ?? []).length, (svg.match(/<\/text>/g) ?? []).length);
  t.equal(escapeXml(`a<b & "c" 'd'>`), 'a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
});

t.test('axis maxima are round', async (t) => {
  t.equal(niceMax(0), 1);
  t.equal(niceMax(7), 10);
  t.equal(niceMax(12000), 20000);
  t.equal(niceMax(99.5), 100);
  t.equal(niceMax(101), 200);
  t.equal(niceMax(450), 500);
  t.equal(niceMax(0.3), 0.5);
});

t.test("the soak's figures, memory table and panels", async (t) => {
  const soak = phase('soak', {
    rps: 6000,
    p50_ms: 20,
    p90_ms: 30,
    p99_ms: 60,
    timeline: [3000, 6000, 6000, 5900],
    warmup_s: 1,
    ids: 3_000_000,
    ids_before: 1_000_000,
    ids_added: 2_000_000,
    ids_source: 'teller_consumer_ids_remembered',
    bytes_per_id: { consumer: 3.2, standby: null, redis: 0.3, redis_within_horizon: 4 },
    bytes_per_id_trend: { consumer: 2.9, standby: null, redis: 4.1 },
    statement_p50_ms: 2.5,
    statement_p99_ms: 14,
    statement_calls: 200,
    statement_errors: 0,
    ledger_documents: 2_500_000,
    rate_window_s: 60,
    rate_start: 6000,
    rate_end: 5700,
    rate_end_over_start: 0.95,
    memory: {
      rss_bytes: { 'api-1': { start: 90e6, end: 95e6 }, 'consumer-1': { start: 400e6, end: 410e6 } },
      consumers: {
        'consumer-1': { role: 'owner', heap_used_bytes: { start: 250e6, end: 256e6 }, heap_retained_bytes: { start: 200e6, end: 206.4e6 }, ids: { start: 1_000_000, end: 3_000_000 } },
      },
      redis_used_bytes: { start: 100e6, end: 108e6, past_horizon: 100.6e6 },
    },
    memory_timeline: [
      { t_s: 0, ids: 1_000_000, heap_retained_bytes: { 'consumer-1': 200e6 }, redis_used_bytes: 100e6 },
      { t_s: 60, ids: 2_000_000, heap_retained_bytes: { 'consumer-1': 203e6 }, redis_used_bytes: 104e6 },
      { t_s: 125, ids: 3_000_000, heap_retained_bytes: { 'consumer-1': 206.4e6 }, redis_used_bytes: 108e6 },
    ],
    soak_notes: ['no consumer owned partitions at the end'],
  });
  const md = renderMarkdown({ ...result, phases: { soak } });
  t.match(md, /\| soak \| 6,000 \| - \| 20\.0 \| 30\.0 \| 60\.0 \|/);
  t.match(md, /- soak: \*\*3,000,000 ids\*\* in the window at the end, 2,000,000 added \(teller_consumer_ids_remembered\); retained per id added: consumer \*\*3\.2 B\*\*, standby \*\*-\*\*; Redis \*\*0\.3 B\*\* past the outcome horizon \(all its memory over the ids in the window; 4\.0 B added an id within it\); slope over the run: 2\.9 B, -, 4\.1 B; Redis used_memory 100\.0 -> 108\.0 MB, 100\.6 MB past the horizon; heaps at rest read as found \(no --expose-gc: garbage not yet collected counts\)\./);
  t.match(md, /- soak: the statement on a ledger of \*\*2,500,000 documents\*\*, 200 pages of 50 read after the load: p50 2\.5 ms, p99 \*\*14\.0 ms\*\*, 0 errors\./);
  t.match(md, /- soak: accepted calls\/s over the first 60 s 6,000, over the last 5,700: \*\*0\.950\*\* of the start\./);
  t.match(md, /- soak: no consumer owned partitions at the end/);
  const notPast = renderMarkdown({ ...result, phases: { soak: { ...soak, bytes_per_id: { ...soak.bytes_per_id!, redis: null }, memory: { ...soak.memory!, redis_used_bytes: { start: 100e6, end: 108e6, past_horizon: null } } } } });
  t.match(notPast, /; Redis \*\*-\*\* past the outcome horizon \(all its memory over the ids in the window; 4\.0 B added an id within it\);.*Redis used_memory 100\.0 -> 108\.0 MB, - MB past the horizon;/, 'not read past the horizon: dashes');
  const collected = renderMarkdown({ ...result, phases: { soak: { ...soak, heap_after_full_gc: true } } });
  t.match(collected, /100\.6 MB past the horizon; heaps at rest read after two full garbage collections\./, 'how the heaps were read');
  t.match(md, /\| api-1 \| 90\.0 \| 95\.0 \| - \| - \| - \| - \|/);
  t.match(md, /\| consumer-1 \(owner\) \| 400\.0 \| 410\.0 \| 250\.0 \(200\.0\) \| 256\.0 \(206\.4\) \| 1,000,000 \| 3,000,000 \|/);
  t.notMatch(renderMarkdown(result), /Memory at rest/, 'no soak, no memory table');
  const svg = renderSvg({ ...result, phases: { contract: result.phases.contract!, soak } });
  t.match(svg, /Soak: calls\/s/);
  t.match(svg, /Soak: memory \(MB\)/);
  t.match(svg, />consumer-1 \(owner\) heap<\/text>/);
  t.match(svg, />redis used_memory<\/text>/);
  t.equal((svg.match(/<polyline /g) ?? []).length, 4, 'contract; the soak on its own; its consumer and Redis');
  t.match(svg, /height="1240"/, 'four panels');
  t.notMatch(svg, /NaN|undefined/);
});

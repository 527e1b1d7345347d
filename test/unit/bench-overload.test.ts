// The overload phase's pure parts: its options, the plan of its steps, how an
// answer counts, each step's figures from recorded answers, and its place in
// the markdown and the SVG (the curve has a point per step).
import t from 'tap';
import { parseArgs, PHASES } from '../../scripts/benchmark/bench-options.js';
import { emptyPhase, type BenchResult, type PhaseResult } from '../../scripts/benchmark/bench-result.js';
import { overloadTable, peakOf, planSteps, StepRecorder, type StepFigures } from '../../scripts/benchmark/overload-figures.js';
import { classify } from '../../scripts/shared/answer-class.js';
import { baseRate } from '../../scripts/benchmark/overload-phase.js';
import { overloadNote, renderMarkdown } from '../../scripts/benchmark/results-markdown.js';
import { overloadCurve, renderSvg } from '../../scripts/benchmark/results-svg.js';

const OVERLOADED = 'urn:teller:problem:overloaded';

t.test('the options: in every run, 1x to 3x of the base in 15 s steps over 1,000 connections, bounded', async (t) => {
  t.ok(PHASES.includes('overload'), 'a run that names no phases takes it');
  const d = parseArgs([]);
  t.same(d.overloadMultipliers, [1, 1.5, 2, 3]);
  t.equal(d.overloadStepS, 15);
  t.equal(d.overloadConnections, 1000);
  t.equal(d.overloadBaseRate, 4000);
  t.equal(parseArgs(['--quick']).overloadStepS, 5);
  const o = parseArgs(['--overload-steps', '2,4', '--overload-step-seconds', '30', '--overload-connections', '500', '--overload-base-rate', '1000']);
  t.same([o.overloadMultipliers, o.overloadStepS, o.overloadConnections, o.overloadBaseRate], [[2, 4], 30, 500, 1000]);
  t.same(parseArgs([], { BENCH_OVERLOAD_STEPS: '1,5' }).overloadMultipliers, [1, 5], 'or from the environment');
  for (const bad of [['--overload-steps', '1,0'], ['--overload-steps', '11'], ['--overload-steps', '1,2,3,4,5,6,7,8,9'], ['--overload-steps', 'x']]) {
    t.throws(() => parseArgs(bad), /--overload-steps takes/, bad.join(' '));
  }
  t.throws(() => parseArgs(['--overload-step-seconds', '121']), /--overload-step-seconds must be an integer in \[1, 120\]/);
  t.throws(() => parseArgs(['--overload-connections', '4001']), /--overload-connections/);
});

t.test('the plan: each multiplier of the base rate, in order, capped', async (t) => {
  t.same(planSteps(4000, [1, 1.5, 2, 3], 15), [
    { multiplier: 1, target_rps: 4000, seconds: 15 },
    { multiplier: 1.5, target_rps: 6000, seconds: 15 },
    { multiplier: 2, target_rps: 8000, seconds: 15 },
    { multiplier: 3, target_rps: 12000, seconds: 15 },
  ]);
  t.same(planSteps(333.3, [1.5], 1), [{ multiplier: 1.5, target_rps: 500, seconds: 1 }], 'whole calls a second');
  t.equal(planSteps(60_000, [3], 5)[0]!.target_rps, 100_000, 'never above 100,000 calls/s');
  t.throws(() => planSteps(0, [1], 5), /base rate/);
  t.throws(() => planSteps(100, [], 5), /1 to 8 steps/);
  t.throws(() => planSteps(100, [1], 0), /1 to 120 s/);
  t.throws(() => planSteps(100, [-1], 5), /multiplier/);
});

t.test('the base: the contract phase of the same run, else the option', async (t) => {
  const opts = parseArgs(['--overload-base-rate', '1234']);
  t.same(baseRate({ opts, phases: {} }), { rps: 1234, from: 'option' });
  t.same(baseRate({ opts, phases: { contract: { ...emptyPhase('contract', ''), rps: 7975.4 } } }), { rps: 7975.4, from: 'contract' });
  t.same(baseRate({ opts, phases: { contract: { ...emptyPhase('contract', ''), rps: 10, error: 'stack down' } } }), { rps: 1234, from: 'option' }, 'not a failed one');
});

t.test('how an answer counts', async (t) => {
  for (const status of [200, 201, 202, 402]) t.equal(classify(status), 'accepted', `${status}`);
  t.equal(classify(429), 'refused', "NGINX's rate limit");
  t.equal(classify(503, OVERLOADED), 'refused');
  t.equal(classify(503, 'urn:teller:problem:unavailable'), 'refused', 'the producer refused it unsent');
  t.equal(classify(503, 'urn:teller:problem:unconfirmed'), 'other', 'sent and not confirmed: it may apply, not a refusal');
  t.equal(classify(503), 'other', "NGINX's own 503: no replica");
  for (const status of [500, 502, 504, 400, 409, 0]) t.equal(classify(status), 'other', `${status}`);
});

/** A step of 2 s at 100 calls/s whose answers the test lists. */
function recordedStep(): StepFigures {
  const r = new StepRecorder({ multiplier: 2, target_rps: 100, seconds: 2 });
  for (let i = 0; i < 150; i++) r.sent(i % 10);
  for (let i = 0; i < 50; i++) r.unsent();
  for (let i = 1; i <= 80; i++) r.answer(200, i);
  for (let i = 0; i < 10; i++) r.answer(402, 100);
  for (let i = 1; i <= 40; i++) r.answer(503, i, OVERLOADED, '1');
  for (let i = 0; i < 3; i++) r.answer(429, 0.5, undefined, '1');
  r.answer(429, 0.5);
  r.answer(429, 0.5, undefined, ' ');
  for (let i = 0; i < 5; i++) r.answer(504, 15_000);
  for (let i = 0; i < 5; i++) r.answer(503, 2000, 'urn:teller:problem:unconfirmed');
  for (let i = 0; i < 3; i++) r.failed(true);
  for (let i = 0; i < 2; i++) r.failed(false);
  r.memory({ 'api-1': 80e6, 'api-2': 81e6, nginx: 15e6 });
  r.memory({ 'api-1': 95e6, 'api-2': 82e6, nginx: null });
  return r.figures();
}

t.test("a step's figures from its recorded answers", async (t) => {
  const s = recordedStep();
  t.match(s, {
    multiplier: 2,
    target_rps: 100,
    sent: 150,
    unsent: 50,
    offered_rps: 75,
    accepted: 90,
    accepted_rps: 45,
    refused: 45,
    refused_rps: 22.5,
    other: 15,
    other_rps: 7.5,
    timeouts: 3,
    errors: 2,
  });
  t.same(s.status, { 200: 80, 402: 10, 429: 5, 503: 45, 504: 5 });
  t.same(s.refused_by, { [OVERLOADED]: 40, 'urn:teller:problem:rate-limited': 5 });
  t.equal(s.p50_ms, 45, "the accepted calls' median: the 45th of 1..80 and ten of 100");
  t.equal(s.p99_ms, 100);
  t.equal(s.max_ms, 100, 'the 504 that took 15 s is a failure, not an accepted latency');
  t.equal(s.refused_p50_ms, 18, "the refused calls' median: the 23rd of five 429s at 0.5 and 503s at 1..40");
  t.equal(s.refused_p99_ms, 40, 'the unconfirmed 503s that took 2 s are failures, not refused latencies');
  t.equal(s.refused_without_retry_after, 2, 'the 429 without Retry-After and the one with it empty; not the failures nor the accepted calls');
  t.equal(s.send_lag_p99_ms, 9);
  t.same(s.peak_rss_bytes, { 'api-1': 95e6, 'api-2': 82e6, nginx: 15e6 }, 'the largest reading of each');
  t.equal(peakOf(s, 'api'), 95e6, 'the largest replica');
});

t.test('a step with no answer has no latency', async (t) => {
  const s = new StepRecorder({ multiplier: 1, target_rps: 10, seconds: 1 }).figures();
  t.match(s, { sent: 0, offered_rps: 0, p50_ms: null, p99_ms: null, refused_p50_ms: null, refused_p99_ms: null, refused_without_retry_after: 0, send_lag_p99_ms: null, peak_rss_bytes: {} });
});

t.test('a step with no refusal has no refused latency, whatever else it answered', async (t) => {
  const r = new StepRecorder({ multiplier: 1, target_rps: 10, seconds: 1 });
  for (let i = 1; i <= 10; i++) r.answer(200, i);
  r.answer(503, 3000, 'urn:teller:problem:unconfirmed', '1');
  r.answer(503, 5);
  const s = r.figures();
  t.match(s, { accepted: 10, refused: 0, other: 2, p50_ms: 5, refused_p50_ms: null, refused_p99_ms: null, refused_without_retry_after: 0 });
});

function overloadPhase(steps: StepFigures[]): PhaseResult {
  return { ...emptyPhase('overload', 'the contract flow, open loop'), rps: 40, p50_ms: 20, p90_ms: 30, p99_ms: 90, steps, base_rps: 100, base_from: 'contract', refused_checked: 50, refused_found: 0 };
}

/** A recorded step's figures under other rates; a step that refused nothing has no refused latency. */
function step(multiplier: number, offered: number, accepted: number, refused: number, p99: number | null): StepFigures {
  const none = refused === 0 ? { refused: 0, refused_p50_ms: null, refused_p99_ms: null, refused_without_retry_after: 0 } : {};
  return { ...recordedStep(), multiplier, offered_rps: offered, accepted_rps: accepted, refused_rps: refused, p99_ms: p99, ...none };
}

const result = (phase: PhaseResult): BenchResult => ({
  version: 1,
  started_at: '2026-11-23T20:00:00.000Z',
  finished_at: '2026-11-23T20:10:00.000Z',
  command: 'npm run bench -- --phases overload',
  git: { commit: '0123456789abcdef0123', dirty: false },
  machine: { cores: 2, cpu_model: 'Test CPU', memory_gib: 23.5, kernel: '6.1', node: 'v20', load_avg_at_start: [1, 0.5, 0.25] },
  config: { apiReplicas: 2, consumers: 2, partitions: 6 },
  options: { connections: 150 },
  stack: { url: 'http://127.0.0.1:8080', started_by_bench: false },
  phases: { overload: phase },
});

t.test('the markdown: a row per step and a note on failures and refused calls', async (t) => {
  const steps = [step(1, 100, 95, 0, 40), step(3, 290, 120, 170, 85.5)];
  const rows = overloadTable(steps);
  t.equal(rows.length, 4, 'a header, its rule and two steps');
  t.match(rows[0], /\| accepted p99 ms \| refused p50 \/ p99 ms \| send lag p99 ms \|/);
  t.match(rows[2], /\| 40\.0 \| - \/ - \| 9\.0 \|/, 'no refusal, no refused latency');
  t.match(rows[3], /^\| 3\.0x \| 100 \| 290 \| 120 \| 170 \| 8 \| 50 \| 45\.0 \| 85\.5 \| 18\.0 \/ 40\.0 \| 9\.0 \| 95\.0 \| 15\.0 \|$/);
  const note = overloadNote(overloadPhase(steps));
  t.match(note, /100 calls\/s \(the contract phase's rate\)/);
  t.match(note, /\*\*30 failed calls\*\*/, 'the 504s, unconfirmed, timeouts and broken connections of both steps');
  t.match(note, /of 50 refused calls looked up afterwards, \*\*0\*\* in the ledger/);
  t.match(note, /\*\*2 refusals without Retry-After\*\*/, 'the refusals of the step that refused');
  const told = (s: StepFigures) => ({ ...s, refused_without_retry_after: 0 });
  t.match(overloadNote(overloadPhase(steps.map(told))), /, every refusal with Retry-After;/);
  t.notMatch(overloadNote(overloadPhase([steps[0]!])), /Retry-After/, 'nothing refused, nothing to say');
  const md = renderMarkdown(result(overloadPhase(steps)));
  t.match(md, /Overload steps \(the contract flow, open loop\):/);
  t.match(md, /\| 1\.0x \| 100 \| 100 \| 95 \|/);
});

/** The points of a polyline of the overload panel, as numbers. */
function points(svg: string, series: string): number[][] {
  const m = new RegExp(`<polyline class="overload-${series}"[^>]* points="([^"]*)"`).exec(svg);
  if (!m) return [];
  return m[1]!.split(' ').filter(Boolean).map((p) => p.split(',').map(Number));
}

t.test('the SVG: accepted, refused and the p99 of each against the offered load, a point per step', async (t) => {
  const steps = [step(2, 200, 150, 40, 60), step(1, 100, 98, 0, 30), step(3, 300, 150, 140, null)];
  const curve = overloadCurve(steps);
  t.same(curve.accepted, [[100, 98], [200, 150], [300, 150]], 'in order of the load offered');
  t.same(curve.refused, [[100, 0], [200, 40], [300, 140]]);
  t.same(curve.p99, [[100, 30], [200, 60]], 'a step with no accepted call has no p99');
  t.same(curve.refusedP99, [[200, 40], [300, 40]], 'a step with no refused call has no refused p99');
  const svg = renderSvg(result(overloadPhase(steps)));
  t.match(svg, /Overload: accepted and refused calls\/s/);
  const accepted = points(svg, 'accepted');
  const refused = points(svg, 'refused');
  t.equal(accepted.length, 3);
  t.equal(refused.length, 3);
  t.equal(points(svg, 'p99').length, 2);
  t.equal(points(svg, 'refusedP99').length, 2);
  const xs = accepted.map(([x]) => x!);
  t.ok(xs[0]! < xs[1]! && xs[1]! < xs[2]!, 'left to right as the offered load grows');
  t.ok(accepted[2]![1]! < refused[0]![1]!, 'more accepted calls are drawn higher than none refused');
  t.equal((svg.match(/<circle /g) ?? []).length, 10, 'a marked point each');
  t.notMatch(renderSvg(result({ ...overloadPhase([]), steps: [] })), /class="overload-/, 'no steps, no panel');
});

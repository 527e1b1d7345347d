// The results as an SVG chart, written by hand: calls per second over time
// for every phase (one line each, the warm-up shaded), the soak's calls per
// second and memory in panels of their own, the overload phase's curve
// against the load offered, and the latency percentiles of each phase as
// grouped bars.
import type { BenchResult, PhaseResult } from './bench-result.js';
import type { StepFigures } from './overload-figures.js';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const PCT_COLORS = { p50_ms: '#9ecae1', p90_ms: '#4292c6', p99_ms: '#08519c' } as const;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** A round axis maximum at or above `v`: 1, 2 or 5 times a power of ten. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

const n1 = (x: number) => (Math.round(x * 10) / 10).toString();

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${n1(x)}" y="${n1(y)}" ${attrs}>${escapeXml(s)}</text>`;
}

/**
 * A line to draw: points as [seconds, value], `span` the seconds it covers,
 * `top` the highest value the axis must hold (its points' by default), `mark`
 * a moment to mark (the end of a warm-up).
 */
interface Series {
  name: string;
  points: [number, number][];
  span: number;
  top?: number;
  mark?: number;
}

function linePanel(title: string, series: Series[], x0: number, y0: number, w: number, h: number, markNote = ''): string[] {
  const lines = series.filter((s) => s.points.length > 0);
  const out = [text(x0, y0 - 12, title, 'font-weight="bold"')];
  const maxT = Math.max(1, ...lines.map((s) => s.span));
  const maxY = niceMax(Math.max(1, ...lines.flatMap((s) => [s.top ?? 0, ...s.points.map(([, v]) => v)])));
  const px = (t: number) => x0 + (t / maxT) * w;
  const py = (v: number) => y0 + h - (v / maxY) * h;
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (maxY / 4) * i;
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${n1(py(v))}" y2="${n1(py(v))}" stroke="#eee"/>`);
    out.push(text(x0 - 6, py(v) + 4, Math.round(v).toLocaleString('en-US'), 'text-anchor="end" font-size="11"'));
  }
  const step = niceMax(maxT / 8);
  for (let t = 0; t <= maxT; t += step) out.push(text(px(t), y0 + h + 16, `${t}s`, 'text-anchor="middle" font-size="11"'));
  lines.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const pts = s.points.map(([t, v]) => `${n1(px(t))},${n1(py(v))}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    if (s.mark) out.push(`<line x1="${n1(px(s.mark))}" x2="${n1(px(s.mark))}" y1="${y0}" y2="${y0 + h}" stroke="${color}" stroke-dasharray="3,3" opacity="0.5"/>`);
    const ly = y0 + 14 + i * 16;
    out.push(`<line x1="${x0 + w + 12}" x2="${x0 + w + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
    out.push(text(x0 + w + 36, ly, s.name, 'font-size="12"'));
  });
  if (markNote && lines.some((s) => s.mark)) out.push(text(x0 + w + 12, y0 + 14 + lines.length * 16 + 8, markNote, 'font-size="10" fill="#666"'));
  return out;
}

/** A phase's calls a second as a line: each bucket at its middle; the last one is usually partial and is left out. */
function timelineSeries(p: PhaseResult): Series {
  const tl = p.timeline ?? [];
  return { name: p.name, points: tl.slice(0, Math.max(1, tl.length - 1)).map((v, t) => [t + 0.5, v]), span: tl.length, top: Math.max(0, ...tl), mark: p.warmup_s };
}

function throughputPanel(title: string, phases: PhaseResult[], x0: number, y0: number, w: number, h: number): string[] {
  return linePanel(title, phases.filter((p) => (p.timeline?.length ?? 0) > 0).map(timelineSeries), x0, y0, w, h, 'dashed: end of warm-up');
}

/** The soak's memory over the run in MB: each consumer's heap without the young generation, and Redis's used_memory. */
export function soakMemorySeries(p: PhaseResult): Series[] {
  const points = p.memory_timeline ?? [];
  const span = Math.max(1, ...points.map((m) => m.t_s));
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
  const consumers = [...new Set(points.flatMap((m) => Object.keys(m.heap_retained_bytes)))].sort();
  const role = (name: string) => p.memory?.consumers[name]?.role;
  const series: Series[] = consumers.map((name) => ({
    name: `${name}${role(name) ? ` (${role(name)})` : ''} heap`,
    points: points.flatMap((m) => (m.heap_retained_bytes[name] === undefined ? [] : [[m.t_s, mb(m.heap_retained_bytes[name]!)] as [number, number]])),
    span,
  }));
  series.push({ name: 'redis used_memory', points: points.flatMap((m) => (m.redis_used_bytes === null ? [] : [[m.t_s, mb(m.redis_used_bytes)] as [number, number]])), span });
  return series;
}

type Curve = [number, number][];

/** The overload curve: accepted and refused calls a second and the p99 (ms) of each, one point per step at its offered rate. */
export function overloadCurve(steps: readonly StepFigures[]): { accepted: Curve; refused: Curve; p99: Curve; refusedP99: Curve } {
  const sorted = [...steps].sort((a, b) => a.offered_rps - b.offered_rps);
  const present = (ms: (s: StepFigures) => number | null): Curve => sorted.flatMap((s) => (ms(s) === null ? [] : [[s.offered_rps, ms(s)!] as [number, number]]));
  return {
    accepted: sorted.map((s) => [s.offered_rps, s.accepted_rps]),
    refused: sorted.map((s) => [s.offered_rps, s.refused_rps]),
    p99: present((s) => s.p99_ms),
    refusedP99: present((s) => s.refused_p99_ms),
  };
}

const OVERLOAD_SERIES = [
  { key: 'accepted', label: 'accepted calls/s', color: '#2ca02c', axis: 'rate' },
  { key: 'refused', label: 'refused calls/s (503, 429)', color: '#ff7f0e', axis: 'rate' },
  { key: 'p99', label: 'accepted p99 ms (right axis)', color: '#1f77b4', axis: 'ms' },
  { key: 'refusedP99', label: 'refused p99 ms (right axis)', color: '#d62728', axis: 'ms' },
] as const;

function overloadPanel(steps: readonly StepFigures[], x0: number, y0: number, w: number, h: number): string[] {
  const curve = overloadCurve(steps);
  const out = [text(x0, y0 - 12, 'Overload: accepted and refused calls/s and the p99 of each against the calls/s offered', 'font-weight="bold"')];
  const maxX = niceMax(Math.max(1, ...steps.map((s) => s.offered_rps)));
  const maxRate = niceMax(Math.max(1, ...curve.accepted.map(([, v]) => v), ...curve.refused.map(([, v]) => v)));
  const maxMs = niceMax(Math.max(1, ...curve.p99.map(([, v]) => v), ...curve.refusedP99.map(([, v]) => v)));
  const px = (x: number) => x0 + (x / maxX) * w;
  const py = (v: number, top: number) => y0 + h - (v / top) * h;
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 4; i++) {
    const y = py((maxRate / 4) * i, maxRate);
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${n1(y)}" y2="${n1(y)}" stroke="#eee"/>`);
    out.push(text(x0 - 6, y + 4, Math.round((maxRate / 4) * i).toLocaleString('en-US'), 'text-anchor="end" font-size="11"'));
    out.push(text(x0 + w + 6, y + 4, n1((maxMs / 4) * i), 'font-size="11" fill="#1f77b4"'));
    out.push(text(px((maxX / 4) * i), y0 + h + 16, Math.round((maxX / 4) * i).toLocaleString('en-US'), 'text-anchor="middle" font-size="11"'));
  }
  OVERLOAD_SERIES.forEach((series, i) => {
    const top = series.axis === 'rate' ? maxRate : maxMs;
    const points = curve[series.key];
    const dash = series.axis === 'ms' ? ' stroke-dasharray="5,3"' : '';
    out.push(`<polyline class="overload-${series.key}" fill="none" stroke="${series.color}" stroke-width="1.5"${dash} points="${points.map(([x, v]) => `${n1(px(x))},${n1(py(v, top))}`).join(' ')}"/>`);
    for (const [x, v] of points) {
      out.push(`<circle cx="${n1(px(x))}" cy="${n1(py(v, top))}" r="3" fill="${series.color}"><title>${escapeXml(`offered ${Math.round(x)}/s: ${series.label} ${n1(v)}`)}</title></circle>`);
    }
    const ly = y0 + 14 + i * 16;
    out.push(`<line x1="${x0 + w + 48}" x2="${x0 + w + 66}" y1="${ly - 4}" y2="${ly - 4}" stroke="${series.color}" stroke-width="3"${dash}/>`);
    out.push(text(x0 + w + 70, ly, series.label, 'font-size="11"'));
  });
  return out;
}

function latencyPanel(phases: PhaseResult[], x0: number, y0: number, w: number, h: number): string[] {
  const rows = phases.filter((p) => p.p99_ms !== null && p.p99_ms !== undefined);
  const out = [text(x0, y0 - 12, 'Latency percentiles (ms): p50, p90, p99', 'font-weight="bold"')];
  const maxY = niceMax(Math.max(1, ...rows.map((p) => p.p99_ms ?? 0)));
  const py = (v: number) => y0 + h - (v / maxY) * h;
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (maxY / 4) * i;
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${n1(py(v))}" y2="${n1(py(v))}" stroke="#eee"/>`);
    out.push(text(x0 - 6, py(v) + 4, n1(v), 'text-anchor="end" font-size="11"'));
  }
  const group = w / Math.max(1, rows.length);
  const bar = Math.min(28, (group - 16) / 3);
  rows.forEach((p, i) => {
    const gx = x0 + i * group + (group - bar * 3) / 2;
    (['p50_ms', 'p90_ms', 'p99_ms'] as const).forEach((k, j) => {
      const v = p[k] ?? 0;
      const x = gx + j * bar;
      out.push(`<rect x="${n1(x)}" y="${n1(py(v))}" width="${n1(bar - 2)}" height="${n1(y0 + h - py(v))}" fill="${PCT_COLORS[k]}"><title>${escapeXml(`${p.name} ${k.replace('_ms', '')}: ${v} ms`)}</title></rect>`);
      out.push(text(x + (bar - 2) / 2, py(v) - 3, n1(v), 'text-anchor="middle" font-size="9"'));
    });
    out.push(text(x0 + i * group + group / 2, y0 + h + 16, p.name, 'text-anchor="middle" font-size="12"'));
  });
  (['p50_ms', 'p90_ms', 'p99_ms'] as const).forEach((k, j) => {
    const ly = y0 + 14 + j * 16;
    out.push(`<rect x="${x0 + w + 12}" y="${ly - 10}" width="14" height="10" fill="${PCT_COLORS[k]}"/>`);
    out.push(text(x0 + w + 32, ly, k.replace('_ms', ''), 'font-size="12"'));
  });
  return out;
}

export function cumulative(xs: number[]): number[] {
  let sum = 0;
  return xs.map((x) => (sum += x));
}

export function renderSvg(r: BenchResult): string {
  const phases = Object.values(r.phases).filter((p) => !p.skipped);
  // The drain runs at another scale (messages applied, no HTTP), the soak for minutes: panels of their own.
  const http = phases.filter((p) => p.name !== 'drain' && p.name !== 'soak');
  const soak = phases.find((p) => p.name === 'soak' && (p.timeline?.length ?? 0) > 0);
  // Its consumers commit in large steps, so per-second increments are spikes: the running total reads better.
  const drain = phases
    .filter((p) => p.name === 'drain' && (p.timeline?.length ?? 0) > 0)
    .map((p) => ({ ...p, timeline: cumulative(p.timeline ?? []) }));
  const W = 960;
  const panel = 220;
  const gap = 80;
  const body = [
    text(20, 24, `Teller benchmark ${r.started_at} (${r.git.commit.slice(0, 12)}), ${r.machine.cores} cores`, 'font-size="15" font-weight="bold"'),
  ];
  let y = 70;
  body.push(...throughputPanel('Throughput over time (calls/s)', http, 70, y, 720, panel));
  y += panel + gap;
  if (drain.length > 0) {
    body.push(...throughputPanel('Drain: messages applied (committed) since the consumers started', drain, 70, y, 720, panel));
    y += panel + gap;
  }
  if (soak) {
    body.push(...throughputPanel('Soak: calls/s', [soak], 70, y, 720, panel));
    y += panel + gap;
    body.push(...linePanel("Soak: memory (MB), each consumer's heap without the young generation and Redis", soakMemorySeries(soak), 70, y, 720, panel));
    y += panel + gap;
  }
  const overload = phases.find((p) => p.name === 'overload' && (p.steps?.length ?? 0) > 0);
  if (overload) {
    body.push(...overloadPanel(overload.steps ?? [], 70, y, 600, panel));
    y += panel + gap;
  }
  body.push(...latencyPanel(phases, 70, y, 720, panel));
  const H = y + panel + 50;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

// One frame of `npm run top`: the figures as plain text, with ANSI styles when
// the terminal takes them (bold headings, red for what needs an operator, dim
// for what cannot be known yet). Pure, so the tests read the frame itself.
import type { ApiFigures, ConsumerFigures, Figures, ProcessFigures, Rate, RouteFigures } from './top-figures.js';

export interface FrameOptions {
  color: boolean;
  /** Partitions of the transaction topic: each should have one owner. */
  partitions: number;
  /** A heartbeat older than this means the group is about to deal the consumer's partitions to others. */
  sessionTimeoutSeconds: number;
}

type Style = 'bold' | 'red' | 'dim' | 'green';
const CODES: Record<Style, string> = { bold: '1', red: '31', dim: '2', green: '32' };

interface Cell {
  text: string;
  style?: Style;
  /** Left-aligned; numbers are right-aligned. */
  left?: boolean;
}

function paint(text: string, style: Style | undefined, color: boolean): string {
  return style && color ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text;
}

/** A row whose second cell spans the rest of the row (a process that did not answer). */
interface SpanRow {
  first: string;
  rest: Cell;
}

/** Rows in columns as wide as their widest cell, two spaces apart, each row indented by two. */
function table(rows: Array<Cell[] | SpanRow>, color: boolean): string[] {
  const cells = rows.filter((r): r is Cell[] => Array.isArray(r));
  const widths = cells.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.text.length)), []);
  return rows.map((row) => {
    if (!Array.isArray(row)) return `  ${row.first.padEnd(widths[0] ?? 0)}  ${paint(row.rest.text, row.rest.style, color)}`;
    return `  ${row.map((c, i) => paint(c.left ? c.text.padEnd(widths[i]!) : c.text.padStart(widths[i]!), c.style, color)).join('  ')}`.trimEnd();
  });
}

export function perSecond(n: number | undefined): string {
  return n === undefined ? '-' : n.toFixed(1);
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (!Number.isFinite(seconds)) return seconds > 0 ? 'over the top bucket' : '-';
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

export function bytes(n: number | undefined): string {
  return n === undefined ? '-' : `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function heading(text: string, o: FrameOptions, detail = ''): string {
  return `${paint(text, 'bold', o.color)}${detail ? `  ${detail}` : ''}`;
}

function rateLines(title: string, rates: Rate[], f: Figures, o: FrameOptions): string[] {
  if (f.seconds === 0) return [heading(title, o), paint('  (a rate needs a second scrape)', 'dim', o.color)];
  const total = rates.reduce((n, r) => n + r.perSecond, 0);
  const rows = rates.map((r) => [{ text: r.label, left: true }, { text: perSecond(r.perSecond) }]);
  return [heading(title, o, `total ${perSecond(total)}`), ...(rows.length > 0 ? table(rows, o.color) : [paint('  none', 'dim', o.color)])];
}

function routeLines(routes: RouteFigures[], f: Figures, o: FrameOptions): string[] {
  const title = `P99 BY ROUTE over the last ${f.seconds.toFixed(1)} s`;
  if (f.seconds === 0) return [heading('P99 BY ROUTE', o), paint('  (a quantile needs a second scrape)', 'dim', o.color)];
  const header: Cell[] = [{ text: 'route', left: true, style: 'dim' }, { text: 'calls/s', style: 'dim' }, { text: 'p99', style: 'dim' }];
  const rows = routes.map((r): Cell[] => [{ text: `${r.method} ${r.route}`, left: true }, { text: perSecond(r.perSecond) }, { text: duration(r.p99Seconds) }]);
  return [heading(title, o), ...(rows.length > 0 ? table([header, ...rows], o.color) : [paint('  no calls', 'dim', o.color)])];
}

function unreachable(p: ProcessFigures): SpanRow {
  return { first: p.name, rest: { text: `unreachable: ${p.unreachable}`, style: 'red' } };
}

function consumerLines(consumers: ConsumerFigures[], o: FrameOptions): string[] {
  const header = ['consumer', 'owns', 'warm', 'lag', 'decisions/s', 'ids retained', 'heartbeat'].map((text, i): Cell => ({ text, left: i === 0, style: 'dim' }));
  const rows = consumers.map((c): Cell[] | SpanRow => {
    if (c.unreachable) return unreachable(c);
    const late = c.heartbeatAgeSeconds === undefined || c.heartbeatAgeSeconds > o.sessionTimeoutSeconds;
    return [
      { text: c.name, left: true },
      { text: String(c.owned) },
      { text: String(c.warm) },
      { text: count(c.lag) },
      { text: perSecond(c.decisionsPerSecond) },
      { text: count(c.idsRetained) },
      { text: c.heartbeatAgeSeconds === undefined ? '-' : `${c.heartbeatAgeSeconds.toFixed(1)} s ago`, style: late ? 'red' : undefined },
    ];
  });
  return [heading('CONSUMERS', o), ...table([header, ...rows], o.color)];
}

function apiLines(apis: ApiFigures[], o: FrameOptions): string[] {
  const header = ['api replica', 'kafka sends', 'queued', 'waiting'].map((text, i): Cell => ({ text, left: i < 2, style: 'dim' }));
  const rows = apis.map((a): Cell[] | SpanRow =>
    a.unreachable
      ? unreachable(a)
      : [{ text: a.name, left: true }, a.kafkaFailing ? { text: 'FAILING (503)', left: true, style: 'red' } : { text: 'ok', left: true, style: 'green' }, { text: count(a.queued) }, { text: count(a.waiting) }],
  );
  return [heading('API REPLICAS', o), ...table([header, ...rows], o.color)];
}

function kafkaLine(f: Figures, o: FrameOptions): string {
  const failing = f.apis.filter((a) => a.kafkaFailing).map((a) => a.name);
  const late = f.consumers.filter((c) => !c.unreachable && (c.heartbeatAgeSeconds ?? Infinity) > o.sessionTimeoutSeconds).map((c) => c.name);
  const owned = f.partitionsOwned === o.partitions ? `partitions owned ${f.partitionsOwned} of ${o.partitions}` : paint(`partitions owned ${f.partitionsOwned} of ${o.partitions}`, 'red', o.color);
  const sends = failing.length === 0 ? 'sends ok' : paint(`sends failing on ${failing.join(', ')}`, 'red', o.color);
  const heartbeats = late.length === 0 ? 'heartbeats taken' : paint(`no heartbeat taken within the session timeout: ${late.join(', ')}`, 'red', o.color);
  return `${heading('KAFKA', o)}  ${sends}; ${heartbeats}; ${owned}`;
}

function memoryLines(f: Figures, o: FrameOptions): string[] {
  const header = ['process', 'rss', 'heap used'].map((text, i): Cell => ({ text, left: i === 0, style: 'dim' }));
  const rows = [...f.apis, ...f.consumers].filter((p) => !p.unreachable).map((p): Cell[] => [{ text: p.name, left: true }, { text: bytes(p.rssBytes) }, { text: bytes(p.heapUsedBytes) }]);
  return [heading('MEMORY', o), ...table([header, ...rows], o.color)];
}

/** The whole frame, lines joined, ending with a newline. */
export function renderFrame(f: Figures, o: FrameOptions): string {
  const time = new Date(f.at).toISOString().replace('T', ' ').slice(0, 19);
  const title = `${paint('Teller top', 'bold', o.color)}  ${time} UTC  ${f.apis.length} api replicas, ${f.consumers.length} consumers`;
  const sections = [
    [title],
    [kafkaLine(f, o)],
    rateLines('CALLS A SECOND BY OUTCOME', f.calls, f, o),
    rateLines('REQUESTS A SECOND BY HTTP STATUS', f.httpStatuses, f, o),
    routeLines(f.routes, f, o),
    rateLines('DECISIONS A SECOND BY STATUS', f.decisions, f, o),
    consumerLines(f.consumers, o),
    apiLines(f.apis, o),
    memoryLines(f, o),
  ];
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

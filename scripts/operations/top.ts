// `npm run top`: the running stack's figures live in the terminal, from each
// api replica's /metrics and each consumer's metrics port (public, on
// loopback), scraped again --interval seconds (2 by default) after each scrape: calls a second
// by outcome, p99 by route over the interval, decisions a second, lag, ids in
// the id window, memory per process, and what Teller can see of Kafka.
//
//   npm run -s top                    until Ctrl-C
//   npm run -s top -- --seconds 30    for 30 seconds
//   npm run -s top -- --once          one frame (two scrapes an interval apart, for the rates), no screen clearing
//   --interval S (0.5 to 60), --no-color (also NO_COLOR, or when the output is not a terminal)
//
// Plain ANSI escapes, no terminal library: a frame is redrawn whole, which is
// all a view refreshed every second or two needs.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../../common/config.js';
import { parsePrometheus } from '../shared/prometheus-text.js';
import { pathsFor } from '../stack/paths.js';
import { readStack, type StackInfo } from '../stack/stack-file.js';
import { figures, type ProcessScrape, type Scrape } from './top-figures.js';
import { renderFrame, type FrameOptions } from './top-frame.js';

export interface TopOptions {
  once: boolean;
  /** Stop after this many seconds; undefined: until Ctrl-C. */
  seconds?: number;
  intervalSeconds: number;
  color: boolean;
}

/** The options from the command line; throws naming what is wrong. */
export function parseTopArgs(argv: string[], env: Record<string, string | undefined>, isTerminal: boolean): TopOptions {
  const { values } = parseArgs({
    args: argv,
    options: { once: { type: 'boolean', default: false }, seconds: { type: 'string' }, interval: { type: 'string', default: '2' }, 'no-color': { type: 'boolean', default: false } },
    strict: true,
  });
  const intervalSeconds = Number(values.interval);
  if (!(intervalSeconds >= 0.5 && intervalSeconds <= 60)) throw new Error(`--interval ${values.interval}: seconds from 0.5 to 60`);
  const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
  if (seconds !== undefined && !(Number.isInteger(seconds) && seconds > 0)) throw new Error(`--seconds ${values.seconds}: a whole number of seconds above 0`);
  const color = isTerminal && !values['no-color'] && (env.NO_COLOR ?? '') === '';
  return { once: values.once, intervalSeconds, color, ...(seconds === undefined ? {} : { seconds }) };
}

async function scrapeProcess(url: string, timeoutMs: number): Promise<Pick<ProcessScrape, 'samples' | 'error'>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return res.status === 200 ? { samples: parsePrometheus(text) } : { error: `HTTP ${res.status}` };
  } catch (err) {
    // fetch() says only "fetch failed"; its cause names the reason (ECONNREFUSED, ...).
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    return { error: cause?.code ?? cause?.message ?? (err as Error).message };
  }
}

/** Every api replica and consumer of the stack, scraped at once. */
export async function scrapeStack(stack: StackInfo, timeoutMs: number): Promise<Scrape> {
  const host = new URL(stack.url).hostname;
  const targets = stack.components.filter((c) => (c.kind === 'api' || c.kind === 'consumer') && c.port);
  const at = Date.now();
  const processes = await Promise.all(
    targets.map(async (c) => ({ name: c.name, kind: c.kind as 'api' | 'consumer', ...(await scrapeProcess(`http://${host}:${c.port}/metrics`, timeoutMs)) })),
  );
  return { at, processes };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

const CLEAR = '\x1b[H\x1b[2J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

async function run(options: TopOptions, stack: StackInfo, frame: FrameOptions): Promise<void> {
  const intervalMs = options.intervalSeconds * 1000;
  const timeoutMs = Math.min(2000, intervalMs);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  let previous = await scrapeStack(stack, timeoutMs);
  if (options.once) {
    await pause(intervalMs, stop.signal);
    process.stdout.write(renderFrame(figures(previous, await scrapeStack(stack, timeoutMs)), frame));
    return;
  }
  const redraw = process.stdout.isTTY === true;
  const show = (text: string) => process.stdout.write(redraw ? `${CLEAR}${text}` : `${text}\n`);
  const deadline = options.seconds === undefined ? Infinity : Date.now() + options.seconds * 1000;
  if (redraw) process.stdout.write(HIDE_CURSOR);
  try {
    show(renderFrame(figures(undefined, previous), frame));
    while (!stop.signal.aborted && Date.now() < deadline) {
      await pause(Math.min(intervalMs, Math.max(0, deadline - Date.now())), stop.signal);
      if (stop.signal.aborted) break;
      const current = await scrapeStack(stack, timeoutMs);
      show(renderFrame(figures(previous, current), frame));
      previous = current;
    }
  } finally {
    if (redraw) process.stdout.write(SHOW_CURSOR);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = loadConfigOrExit();
  let options: TopOptions;
  try {
    options = parseTopArgs(process.argv.slice(2), process.env, process.stdout.isTTY === true);
  } catch (err) {
    console.error(`top: ${(err as Error).message}`);
    process.exit(2);
  }
  const paths = pathsFor(config);
  const stack = readStack(paths);
  if (!stack) {
    console.error(`top: no ${paths.stackJson}: is the stack running (npm start)?`);
    process.exit(1);
  }
  run(options, stack, { color: options.color, partitions: config.partitions, sessionTimeoutSeconds: config.sessionTimeoutMs / 1000 })
    .then(() => process.exit(0))
    .catch((err: Error) => {
      console.error(`top: ${err.message}`);
      process.exit(1);
    });
}

// The supervisor's own log. .run/logs/supervisor.log always gets pino's JSON
// lines, for later reading and for tools. Whoever started the stack sees the
// same events on stdout: as JSON when stdout is not a terminal (CI, a pipe, a
// file), and as one short line each in a terminal, where JSON between the
// install lines and the ready banner would be hard to read.
import { destination, multistream, pino, type Logger, type StreamEntry } from 'pino';

/** Where the supervisor's events go besides its log file: process.stdout, or a stand-in in the tests. */
export interface LogOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Fields a short line shows in its own place (time, level, message) or not at all (the `service` every line carries). */
const NOT_SHOWN_AS_FIELDS = new Set(['time', 'level', 'msg', 'service']);

const twoDigits = (n: number) => String(n).padStart(2, '0');

/** A value as `key=value` shows it: quoted when it has a space, quote or `=` in it, objects as JSON. */
function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/**
 * One pino JSON line as `HH:MM:SS level message key=value ...` (local time),
 * ending in a newline. A line that is not a JSON object is passed on as it is.
 */
export function formatLogLine(line: string): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return line;
  const time = new Date(typeof event.time === 'number' ? event.time : Date.now());
  const clock = `${twoDigits(time.getHours())}:${twoDigits(time.getMinutes())}:${twoDigits(time.getSeconds())}`;
  const level = typeof event.level === 'number' ? (LEVEL_NAMES[event.level] ?? String(event.level)) : String(event.level ?? '');
  const fields = Object.entries(event)
    .filter(([key]) => !NOT_SHOWN_AS_FIELDS.has(key))
    .map(([key, value]) => ` ${key}=${fieldValue(value)}`)
    .join('');
  return `${clock} ${level.padEnd(5)} ${String(event.msg ?? '')}${fields}\n`;
}

/** JSON to `file`; to `output` as short lines when it is a terminal, else as the same JSON. */
export function createLogger(level: string, file?: string, output: LogOutput = process.stdout): Logger {
  const toOutput = output.isTTY ? { write: (line: string) => output.write(formatLogLine(line)) } : { write: (line: string) => output.write(line) };
  const streams: StreamEntry[] = [{ stream: toOutput }];
  if (file) streams.push({ stream: destination({ dest: file, append: true, mkdir: true, sync: true }) });
  return pino({ level, base: { service: 'stack' } }, multistream(streams));
}

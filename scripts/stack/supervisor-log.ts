// The supervisor's own log: structured lines on stdout for whoever started it,
// and the same lines in .run/logs/supervisor.log for later reading.
import { destination, multistream, pino, type Logger, type StreamEntry } from 'pino';

export function createLogger(level: string, file?: string): Logger {
  const streams: StreamEntry[] = [{ stream: process.stdout }];
  if (file) streams.push({ stream: destination({ dest: file, append: true, mkdir: true, sync: true }) });
  return pino({ level, base: { service: 'stack' } }, multistream(streams));
}

// The last lines of a log, shown when a component fails to start.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export function tail(file: string, lines: number, maxBytes = 16 * 1024): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return `(no log at ${file})`;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    return buf.toString('utf8').split('\n').slice(-lines - 1).join('\n').trimEnd();
  } finally {
    closeSync(fd);
  }
}

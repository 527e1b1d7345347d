// The supervisor's log: short lines in a terminal, JSON everywhere else and
// always in its file.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createLogger, formatLogLine, type LogOutput } from '../../scripts/stack/supervisor-log.js';

const at = new Date(2026, 0, 2, 3, 4, 5, 678).getTime();

t.test('a pino line becomes HH:MM:SS level message key=value', async (t) => {
  const line = JSON.stringify({ level: 30, time: at, service: 'stack', component: 'kafka', pid: 4242, msg: 'started' });
  t.equal(formatLogLine(`${line}\n`), '03:04:05 info  started component=kafka pid=4242\n');
});

t.test('levels by name; values with spaces, quotes or = quoted; objects as JSON', async (t) => {
  const line = JSON.stringify({
    level: 50,
    time: at,
    service: 'stack',
    msg: 'the stack could not start',
    err: 'GET /readyz answered 502: bad gateway',
    topics: [{ topic: 'transactions', partitions: 4 }],
    empty: '',
    ok: false,
  });
  t.equal(
    formatLogLine(line),
    '03:04:05 error the stack could not start err="GET /readyz answered 502: bad gateway" topics=[{"topic":"transactions","partitions":4}] empty="" ok=false\n',
  );
  t.match(formatLogLine(JSON.stringify({ level: 40, time: at, msg: 'restarting redis' })), /^03:04:05 warn  restarting redis\n$/);
});

t.test('a line that is not a JSON object is passed on as it is', async (t) => {
  t.equal(formatLogLine('install: kafka present\n'), 'install: kafka present\n');
  t.equal(formatLogLine('[1,2]\n'), '[1,2]\n');
});

function capture(isTTY: boolean): LogOutput & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

t.test('in a terminal: short lines on the output, JSON in the file', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'teller-log-')), 'supervisor.log');
  const output = capture(true);
  createLogger('info', file, output).info({ component: 'redis', pid: 7 }, 'redis ready');
  t.match(output.text(), /^\d\d:\d\d:\d\d info  redis ready component=redis pid=7\n$/);
  t.match(JSON.parse(readFileSync(file, 'utf8')), { level: 30, service: 'stack', component: 'redis', pid: 7, msg: 'redis ready' });
});

t.test('not a terminal (CI, a pipe): the JSON lines themselves', async (t) => {
  const output = capture(false);
  createLogger('info', undefined, output).warn({ component: 'nginx' }, 'restarting nginx');
  t.match(JSON.parse(output.text()), { level: 40, service: 'stack', component: 'nginx', msg: 'restarting nginx' });
});

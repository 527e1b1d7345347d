// The supervisor's restart policy, on real (tiny) child processes.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { isAlive, readPid } from '../../scripts/stack/pids.js';
import { backoffDelay, DEFAULT_BACKOFF, Supervised, type ComponentSpec } from '../../scripts/stack/supervisor.js';
import { waitFor } from '../../scripts/shared/wait.js';

function spec(dir: string, script: string, restart = true): ComponentSpec {
  return {
    name: 'child',
    command: process.execPath,
    args: ['-e', script],
    cwd: dir,
    logFile: join(dir, 'child.log'),
    pidFile: join(dir, 'child.pid'),
    stopTimeoutMs: 2000,
    restart,
  };
}

function logger(dir: string) {
  const file = join(dir, 'supervisor.log');
  const log = pino({ level: 'info' }, pino.destination({ dest: file, sync: true }));
  const lines = () =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; delayMs?: number; attempt?: number });
  return { log, lines };
}

t.test('backoff doubles from 250 ms up to 10 s', async (t) => {
  t.same([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(DEFAULT_BACKOFF, n)), [250, 500, 1000, 2000, 4000, 8000, 10000, 10000]);
  t.equal(backoffDelay(DEFAULT_BACKOFF, 1000), 10000, 'no overflow for many failures');
});

t.test('a child that keeps failing is restarted with growing delays, each restart logged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'teller-sup-'));
  const { log, lines } = logger(dir);
  const s = new Supervised(spec(dir, 'console.log("up"); process.exit(3)'), log, { initialMs: 20, maxMs: 80, resetAfterMs: 60_000 });
  s.start();
  await waitFor(() => s.restarts >= 4, { what: 'four restarts', timeoutMs: 10_000, intervalMs: 10 });
  await s.stop();
  const restarts = lines().filter((l) => l.msg === 'restarting child');
  t.same(restarts.slice(0, 4).map((l) => l.delayMs), [20, 40, 80, 80]);
  t.ok(lines().some((l) => l.msg === 'child exited with code 3'), 'the exit code is logged');
  t.match(readFileSync(join(dir, 'child.log'), 'utf8'), /up\nup\n/, "the child's output goes to its log");
});

t.test('stop ends a running child, removes its pid file and does not restart it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'teller-sup-'));
  const { log } = logger(dir);
  const s = new Supervised(spec(dir, 'setInterval(() => {}, 1000)'), log);
  s.start();
  const pid = s.pid!;
  t.equal(readPid(join(dir, 'child.pid')), pid, 'pid file written');
  await s.stop();
  t.notOk(isAlive(pid), 'child gone');
  t.equal(readPid(join(dir, 'child.pid')), undefined, 'pid file removed');
  t.equal(s.restarts, 0);
});

t.test('a child that ignores SIGTERM is killed after its timeout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'teller-sup-'));
  const { log } = logger(dir);
  const s = new Supervised({ ...spec(dir, 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'), stopTimeoutMs: 300 }, log);
  s.start();
  await waitFor(() => readFileSync(join(dir, 'child.log'), 'utf8').includes('ready'), { what: 'child ready', timeoutMs: 5000, intervalMs: 20 });
  const pid = s.pid!;
  const started = Date.now();
  await s.stop();
  t.notOk(isAlive(pid), 'child gone');
  t.ok(Date.now() - started >= 300, 'after the timeout');
});

t.test('a killed child is restarted under a new pid', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'teller-sup-'));
  const { log } = logger(dir);
  const s = new Supervised(spec(dir, 'setInterval(() => {}, 1000)'), log, { initialMs: 10, maxMs: 10, resetAfterMs: 60_000 });
  s.start();
  const first = s.pid!;
  process.kill(first, 'SIGKILL');
  const second = await waitFor(() => (s.pid !== undefined && s.pid !== first ? s.pid : undefined), { what: 'restart', timeoutMs: 5000, intervalMs: 10 });
  t.equal(readPid(join(dir, 'child.pid')), second, 'pid file rewritten');
  await s.stop();
});

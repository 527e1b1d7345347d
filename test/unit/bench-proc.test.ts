// /proc/<pid>/stat parsing and the CPU seconds per component between two samples.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { cpuBetween, parseProcStat, readAllStats, type CpuSample, type ProcStat } from '../../scripts/benchmark/process-cpu.js';

const LINE =
  '4242 (node (api) x) S 4200 4242 4242 0 -1 4194560 1234 0 0 0 150 25 7 3 20 0 11 0 98765 1000000 5000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0';

t.test('parses a stat line whose command name holds spaces and parentheses', async (t) => {
  const s = parseProcStat(LINE);
  t.same(s, { pid: 4242, comm: 'node (api) x', state: 'S', ppid: 4200, pgrp: 4242, utime: 150, stime: 25, cutime: 7, cstime: 3, starttime: 98765 });
  t.throws(() => parseProcStat('garbage'), /not a \/proc stat line/);
  t.throws(() => parseProcStat('1 (x) S 0'), /field/);
});

t.test('parses this process from the real /proc', async (t) => {
  const self = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  t.equal(self.pid > 0, true);
  t.ok(readAllStats().has(process.pid));
});

function stat(pid: number, pgrp: number, utime: number, stime = 0, extra: Partial<ProcStat> = {}): ProcStat {
  return { pid, comm: 'x', state: 'S', ppid: 1, pgrp, utime, stime, cutime: 0, cstime: 0, starttime: pid * 10, ...extra };
}

function sample(at: number, stats: ProcStat[], tracked: CpuSample['tracked']): CpuSample {
  return { at, stats: new Map(stats.map((s) => [s.pid, s])), tracked };
}

t.test('a component is its process group; kinds are summed', async (t) => {
  const tracked = [
    { name: 'nginx', kind: 'nginx', pid: 10, group: true },
    { name: 'api-1', kind: 'api', pid: 20, group: true },
    { name: 'api-2', kind: 'api', pid: 30, group: true },
    { name: 'loadgen', kind: 'loadgen', pid: 40, group: false },
  ];
  const before = sample(0, [stat(10, 10, 100), stat(11, 10, 50), stat(20, 20, 100, 100), stat(30, 30, 0), stat(40, 1, 0, 0, { cutime: 5 })], tracked);
  const after = sample(
    1000,
    [stat(10, 10, 110), stat(11, 10, 250), stat(20, 20, 150, 150), stat(30, 30, 100), stat(40, 1, 20, 0, { cutime: 85 }), stat(99, 1, 1000)],
    tracked,
  );
  const u = cpuBetween(before, after, 100);
  t.same(u.byName, { nginx: 2.1, 'api-1': 1, 'api-2': 1, loadgen: 1 }, 'worker 11 counts for nginx; loadgen counts reaped children (ab)');
  t.same(u.byKind, { nginx: 2.1, api: 2, loadgen: 1 });
  t.same(u.replaced, []);
});

t.test('a restarted component counts its new process from zero; a reused pid is not the same process', async (t) => {
  const before = sample(0, [stat(50, 50, 500)], [{ name: 'consumer-1', kind: 'consumer', pid: 50, group: true }]);
  const after = sample(1000, [stat(60, 60, 30)], [{ name: 'consumer-1', kind: 'consumer', pid: 60, group: true }]);
  const u = cpuBetween(before, after, 100);
  t.same(u.byName, { 'consumer-1': 0.3 });
  t.same(u.replaced, ['consumer-1']);
  const reused = sample(1000, [stat(50, 50, 20, 0, { starttime: 1 })], [{ name: 'consumer-1', kind: 'consumer', pid: 50, group: true }]);
  t.same(cpuBetween(before, reused, 100).byName, { 'consumer-1': 0.2 });
});

t.test('a component without a pid counts nothing', async (t) => {
  const tracked = [{ name: 'redis', kind: 'redis', pid: undefined, group: true }];
  t.same(cpuBetween(sample(0, [], tracked), sample(1, [stat(1, 1, 100)], tracked), 100).byName, { redis: 0 });
});

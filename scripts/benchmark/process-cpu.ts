// CPU time per component from /proc/<pid>/stat: utime + stime (the process's
// own, all threads) plus cutime + cstime (children it has reaped), in clock
// ticks. A component is the process group its supervisor started (NGINX's
// workers belong to the master's group); the load generator is this process
// and the tools it ran (ab), which it reaps.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Clock ticks after boot: tells a process from a later one that reused its pid. */
  starttime: number;
}

/** Parses the text of /proc/<pid>/stat; `comm` may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  const f = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // f[0] is field 3 (state) of proc(5); field n is f[n - 3].
  const num = (field: number) => {
    const v = Number(f[field - 3]);
    if (!Number.isFinite(v)) throw new Error(`field ${field} missing in /proc/${pid}/stat`);
    return v;
  };
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: f[0] ?? '?',
    ppid: num(4),
    pgrp: num(5),
    utime: num(14),
    stime: num(15),
    cutime: num(16),
    cstime: num(17),
    starttime: num(22),
  };
}

let clkTck: number | undefined;
/** Clock ticks per second (getconf CLK_TCK; 100 on Linux unless configured otherwise). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** Every process's stat, by pid; processes that vanish while being read are skipped. */
export function readAllStats(procDir = '/proc'): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const name of readdirSync(procDir)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.set(Number(name), parseProcStat(readFileSync(`${procDir}/${name}/stat`, 'utf8')));
    } catch {
      // gone in the meantime
    }
  }
  return out;
}

/** A component to account for: its leader's pid at the time of a sample. */
export interface Tracked {
  name: string;
  kind: string;
  pid: number | undefined;
  /** Count the whole process group led by `pid` (components the supervisor started), else `pid` alone. */
  group: boolean;
}

export interface CpuSample {
  at: number;
  stats: Map<number, ProcStat>;
  tracked: Tracked[];
}

const key = (s: ProcStat) => `${s.pid}:${s.starttime}`;

/** Ticks per process of one component in a sample: the group's own time, plus what the leader reaped. */
function componentTicks(sample: CpuSample, t: Tracked): Map<string, number> {
  const out = new Map<string, number>();
  if (t.pid === undefined) return out;
  for (const s of sample.stats.values()) {
    const member = t.group ? s.pgrp === t.pid : s.pid === t.pid;
    if (!member) continue;
    let ticks = s.utime + s.stime;
    if (s.pid === t.pid) ticks += s.cutime + s.cstime;
    out.set(key(s), ticks);
  }
  return out;
}

export interface CpuUsage {
  /** CPU seconds by component name (api-1, consumer-2, kafka, loadgen...). */
  byName: Record<string, number>;
  /** The same summed by kind (api, consumer, kafka, ferretdb, redis, nginx, loadgen...). */
  byKind: Record<string, number>;
  /** Components whose process was replaced during the window: the old one's last ticks are unknown. */
  replaced: string[];
}

/**
 * CPU seconds each component used between two samples. A process present in
 * both counts its difference; one that appeared in between (a restart) counts
 * all its ticks; one that vanished counts nothing past the first sample.
 */
export function cpuBetween(before: CpuSample, after: CpuSample, ticksPerSecond: number): CpuUsage {
  const byName: Record<string, number> = {};
  const kinds = new Map<string, number>();
  const replaced: string[] = [];
  for (const t of after.tracked) {
    const prior = before.tracked.find((b) => b.name === t.name);
    const then = prior ? componentTicks(before, prior) : new Map<string, number>();
    const now = componentTicks(after, t);
    let ticks = 0;
    for (const [k, v] of now) ticks += v - (then.get(k) ?? 0);
    if ([...then.keys()].some((k) => !now.has(k))) replaced.push(t.name);
    const seconds = Math.max(0, ticks) / ticksPerSecond;
    byName[t.name] = Math.round(seconds * 100) / 100;
    kinds.set(t.kind, (kinds.get(t.kind) ?? 0) + seconds);
  }
  const byKind = Object.fromEntries([...kinds].map(([k, v]) => [k, Math.round(v * 100) / 100]));
  return { byName, byKind, replaced };
}

export function sampleCpu(tracked: Tracked[]): CpuSample {
  return { at: Date.now(), stats: readAllStats(), tracked };
}

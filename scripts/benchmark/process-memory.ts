// Resident memory per component from /proc/<pid>/status (VmRSS): the whole
// process group its supervisor started, as the CPU accounting counts it
// (process-cpu.ts), so a component run through a wrapper counts its child.
import { readFileSync } from 'node:fs';
import { readAllStats, type ProcStat, type Tracked } from './process-cpu.js';

/** VmRSS of a /proc/<pid>/status text, in bytes; null when the line is missing (a kernel thread, a zombie). */
export function parseVmRss(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

function readStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return ''; // gone in the meantime
  }
}

/**
 * Resident bytes of one component: its group's members (or its process alone)
 * summed; null when none of them is running.
 */
export function componentRss(t: Tracked, stats: Map<number, ProcStat>, statusOf: (pid: number) => string = readStatus): number | null {
  if (t.pid === undefined) return null;
  let total: number | null = null;
  for (const s of stats.values()) {
    const member = t.group ? s.pgrp === t.pid : s.pid === t.pid;
    if (!member) continue;
    const rss = parseVmRss(statusOf(s.pid));
    if (rss !== null) total = (total ?? 0) + rss;
  }
  return total;
}

/** Resident bytes of each tracked component, by name. */
export function rssByComponent(tracked: Tracked[]): Record<string, number | null> {
  const stats = readAllStats();
  return Object.fromEntries(tracked.map((t) => [t.name, componentRss(t, stats)]));
}

// Pid files and liveness checks. Processes are only ever signalled by pid.
import { existsSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

export function writePid(file: string, pid: number): void {
  writeFileSync(file, `${pid}\n`);
}

/** Removes the pid file only if it still names `pid` (a restart may have rewritten it). */
export function removePid(file: string, pid?: number): void {
  if (pid === undefined || readPid(file) === pid) rmSync(file, { force: true });
}

/** The live pid recorded in `file`, if any. */
export function livePid(file: string): number | undefined {
  const pid = readPid(file);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/** Working directory of a process, to tell our own leftovers from an unrelated process that reused a pid. */
export function cwdOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** Signals a process group (every component runs as the leader of its own); ESRCH means it is gone already. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Resolves true once `pid` has exited, false if it is still alive after `timeoutMs`. */
export async function waitExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** SIGTERM to the group led by `pid`, then SIGKILL if it is still there after `timeoutMs`. */
export async function terminateGroup(pid: number, timeoutMs: number): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  if (await waitExit(pid, timeoutMs)) return;
  signalGroup(pid, 'SIGKILL');
  await waitExit(pid, 5000);
}

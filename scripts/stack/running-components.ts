// A running stack's components by name, for whatever hurts one on purpose (the
// benchmark's takeover, the chaos faults, the tests): its pid from the pid file
// the supervisor rewrites at every restart, a signal sent by that pid, and a
// wait for the supervisor to bring the component back.
import { isAlive, readPid } from './pids.js';
import type { StackInfo } from './stack-file.js';
import { waitFor } from '../shared/wait.js';

/** The pid in the component's pid file, alive or not; undefined when it has none. */
export function componentPid(stack: StackInfo, name: string): number | undefined {
  const c = stack.components.find((x) => x.name === name);
  return c ? readPid(c.pidFile) : undefined;
}

/** The component's running process; throws when it is not running. */
export function runningPid(stack: StackInfo, name: string): number {
  const pid = componentPid(stack, name);
  if (pid === undefined || !isAlive(pid)) throw new Error(`${name} is not running`);
  return pid;
}

/** Signals the component's running process by pid; returns that pid. */
export function signalComponent(stack: StackInfo, name: string, signal: NodeJS.Signals): number {
  const pid = runningPid(stack, name);
  process.kill(pid, signal);
  return pid;
}

/** Waits until `name` runs again under a pid other than `oldPid`; returns the new pid. */
export function waitRestarted(stack: StackInfo, name: string, oldPid: number, timeoutMs = 30_000): Promise<number> {
  return waitFor(
    () => {
      const pid = componentPid(stack, name);
      return pid !== undefined && pid !== oldPid && isAlive(pid) ? pid : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `${name} restarted` },
  );
}

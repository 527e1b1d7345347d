// The live stack as the benchmark sees it: started in the background if none
// runs (the way the tests' setup does it), and its components' current pids
// from their pid files, for CPU accounting and for the takeover's kill.
import { join } from 'node:path';
import type { Config } from '../../common/config.js';
import { startStackInBackground, waitStackReady } from '../stack/background-stack.js';
import type { Paths } from '../stack/paths.js';
import { isAlive, readPid, waitExit } from '../stack/pids.js';
import { readStack, runningStackPid, type StackInfo } from '../stack/stack-file.js';
import type { Tracked } from './process-cpu.js';

const START_TIMEOUT_MS = 600_000;

export interface BenchStack {
  info: StackInfo;
  /** Set when the benchmark started the stack (it stops it at the end unless told to keep it). */
  startedPid: number | undefined;
}

/**
 * The environment of a stack the benchmark starts: a soak's consumers run with
 * --expose-gc, so that the soak reads the heap they retain after a full
 * collection (scripts/benchmark/soak-memory.ts) rather than garbage not yet
 * collected. A stack already running is read as it runs.
 */
export function stackEnvironment(phases: readonly string[], env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!phases.includes('soak')) return env;
  const nodeArgs = env.TELLER_NODE_ARGS ?? '';
  return nodeArgs.split(' ').includes('--expose-gc') ? env : { ...env, TELLER_NODE_ARGS: `${nodeArgs} --expose-gc`.trim() };
}

export async function ensureStack(paths: Paths, note: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<BenchStack> {
  const running = runningStackPid(paths);
  let startedPid: number | undefined;
  const pid =
    running ??
    (() => {
      const outFile = join(paths.logs, 'start.out');
      note(`no stack running from ${paths.root}: starting one (output in ${outFile})`);
      startedPid = startStackInBackground(paths, outFile, env);
      return startedPid;
    })();
  await waitStackReady(paths, pid, START_TIMEOUT_MS);
  const info = readStack(paths);
  if (!info) throw new Error(`${paths.stackJson} vanished`);
  return { info, startedPid };
}

/**
 * The stack as phases that need only the database see it, starting nothing:
 * the running one's description when a stack runs from this folder, else one
 * made from the configuration, with no components.
 */
export function stackForDatabaseOnly(paths: Paths, config: Config): BenchStack {
  const running = runningStackPid(paths) === undefined ? undefined : readStack(paths);
  const described = {
    pid: 0,
    url: `http://${config.host}:${config.port}`,
    startedAt: '',
    supervisorLog: '',
    kafkaBrokers: config.kafkaBrokers,
    mongoUri: config.mongoUri,
    redisUrl: config.redisUrl,
    components: [],
  };
  return { info: running ?? described, startedPid: undefined };
}

export async function stopStartedStack(pid: number): Promise<boolean> {
  if (!isAlive(pid)) return true;
  process.kill(pid, 'SIGTERM');
  return waitExit(pid, 120_000);
}

/** The stack's components (each a process group) and this process as the load generator. */
export function stackTracked(info: StackInfo): Tracked[] {
  return [
    ...info.components.map((c) => ({ name: c.name, kind: c.kind, pid: readPid(c.pidFile), group: true })),
    { name: 'loadgen', kind: 'loadgen', pid: process.pid, group: false },
  ];
}

/** Components of the stack whose process is not running (between a crash and its restart, or failing to start). */
export function downComponents(info: StackInfo): string[] {
  return info.components.filter((c) => {
    const pid = readPid(c.pidFile);
    return pid === undefined || !isAlive(pid);
  }).map((c) => c.name);
}

/**
 * Waits until every component runs; throws naming those that do not. A
 * component that keeps failing (e.g. NGINX unable to bind its port because
 * another program took it) would otherwise make a phase measure something else.
 */
export async function requireStackUp(info: StackInfo, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const down = downComponents(info);
    if (down.length === 0) return;
    if (Date.now() > deadline) throw new Error(`stack components not running: ${down.join(', ')} (see ${info.supervisorLog})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// Runs one component as a child process and keeps it running: an unexpected
// exit is logged and followed by a restart with exponential backoff.
//
// Each child leads its own process group (detached), so a Ctrl-C in the terminal
// reaches only the supervisor, which then stops the components in order; the
// group also takes NGINX's workers along when the master is killed. Because
// execa's own cleanup does not apply to detached children, the supervisor kills
// the groups itself if it exits abnormally (see killAllOnExit), and a new start
// removes leftovers of a supervisor that was SIGKILLed (see leftovers.ts).
import { closeSync, openSync } from 'node:fs';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { backoffDelay as delayBeforeRetry } from '../../common/retry.js';
import { removePid, signalGroup, writePid } from './pids.js';

export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  /** Added to the supervisor's own environment. */
  env?: Record<string, string>;
  cwd: string;
  logFile: string;
  pidFile: string;
  port?: number;
  /** How long a SIGTERM may take before SIGKILL. */
  stopTimeoutMs: number;
  /** Restart when it exits on its own. */
  restart: boolean;
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Up this long, the next failure starts again from initialMs. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000, resetAfterMs: 30_000 };

/** The delay before restart number `failures` (0-based): Teller's one backoff, doubling up to the policy's maximum. */
export function backoffDelay(policy: BackoffPolicy, failures: number): number {
  return delayBeforeRetry(failures, policy.initialMs, policy.maxMs);
}

/** Starts the child in its own process group, its output appended to its log file. */
function spawnComponent(spec: ComponentSpec) {
  // The log file's descriptor goes straight to the child: its output never passes through the supervisor.
  // (execa's types name descriptors 3 to 9 only; at run time any open descriptor is passed as it is.)
  const fd = openSync(spec.logFile, 'a') as 3;
  try {
    return execa(spec.command, spec.args, { cwd: spec.cwd, env: spec.env ?? {}, stdin: 'ignore', stdout: fd, stderr: fd, detached: true, reject: false });
  } finally {
    closeSync(fd);
  }
}

type Child = ReturnType<typeof spawnComponent>;

const running = new Set<Supervised>();

/** Last resort when the supervisor dies without stopping its components. */
export function killAllOnExit(): void {
  process.on('exit', () => {
    for (const s of running) if (s.pid !== undefined) signalGroup(s.pid, 'SIGKILL');
  });
}

export class Supervised {
  private child: Child | undefined;
  private exitPromise: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private failures = 0;
  private startedAt = 0;
  /** Set when the child exited without being asked to; readiness waits stop on it. */
  lastExit: string | undefined;
  restarts = 0;

  constructor(
    readonly spec: ComponentSpec,
    private readonly log: Logger,
    private readonly backoff: BackoffPolicy = DEFAULT_BACKOFF,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.stopping = false;
    this.lastExit = undefined;
    const { spec } = this;
    const child = spawnComponent(spec);
    this.child = child;
    this.startedAt = Date.now();
    const pid = child.pid;
    if (pid !== undefined) {
      writePid(spec.pidFile, pid);
      running.add(this);
    }
    this.log.info({ component: spec.name, pid, log: spec.logFile }, 'started');
    this.exitPromise = child.then((result) => this.onExit(child, pid, result.exitCode, result.signal, result.originalMessage));
  }

  private onExit(child: Child, pid: number | undefined, code: number | undefined, signal: string | undefined, message: string | undefined): void {
    if (this.child !== child) return;
    running.delete(this);
    if (pid !== undefined) {
      // Whatever the leader left in its group (NGINX workers) goes with it.
      signalGroup(pid, 'SIGKILL');
      removePid(this.spec.pidFile, pid);
    }
    this.child = undefined;
    if (this.stopping) return;

    const uptimeMs = Date.now() - this.startedAt;
    this.lastExit = signal ? `exited on ${signal}` : code !== undefined ? `exited with code ${code}` : `failed to start: ${message}`;
    this.log.error({ component: this.name, pid, code, signal, uptimeMs, log: this.spec.logFile }, `${this.name} ${this.lastExit}`);
    if (!this.spec.restart) return;

    if (uptimeMs >= this.backoff.resetAfterMs) this.failures = 0;
    const delayMs = backoffDelay(this.backoff, this.failures);
    this.failures += 1;
    this.restarts += 1;
    this.log.warn({ component: this.name, attempt: this.failures, delayMs, restarts: this.restarts }, `restarting ${this.name}`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping) this.start();
    }, delayMs);
  }

  /** SIGTERM, then SIGKILL after the component's timeout; resolves once it has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const pid = this.pid;
    if (pid === undefined) return;
    this.log.info({ component: this.name, pid }, `stopping ${this.name}`);
    signalGroup(pid, 'SIGTERM');
    const killer = setTimeout(() => {
      this.log.warn({ component: this.name, pid, afterMs: this.spec.stopTimeoutMs }, `${this.name} ignored SIGTERM: killing it`);
      signalGroup(pid, 'SIGKILL');
    }, this.spec.stopTimeoutMs);
    await this.exitPromise;
    clearTimeout(killer);
    this.log.info({ component: this.name, pid }, `${this.name} stopped`);
  }

  /** Replaces a component that is running but unhealthy (the FerretDB watchdog uses this). */
  async restart(reason: string): Promise<void> {
    this.restarts += 1;
    this.log.warn({ component: this.name, pid: this.pid, reason, restarts: this.restarts }, `restarting ${this.name}: ${reason}`);
    await this.stop();
    this.start();
  }
}

// The faults, one at a time, each applied by pid to a component of the running
// stack; the supervisor restarts what was killed.
import type { Config } from '../../../common/config.js';
import { activeConsumer } from '../active-consumers.js';
import { isAlive, readPid } from '../pids.js';
import type { StackInfo } from '../stackfile.js';
import { waitFor } from '../wait.js';

export interface Fault {
  name: string;
  describe: string;
  /** Applies the fault; resolves once the component is back (restarted or resumed). */
  inject(stack: StackInfo, config: Config): Promise<void>;
}

function pidOf(stack: StackInfo, name: string): number {
  const c = stack.components.find((x) => x.name === name);
  const pid = c ? readPid(c.pidFile) : undefined;
  if (!c || pid === undefined || !isAlive(pid)) throw new Error(`${name} is not running`);
  return pid;
}

async function killAndWaitRestart(stack: StackInfo, name: string): Promise<void> {
  const old = pidOf(stack, name);
  process.kill(old, 'SIGKILL');
  const file = stack.components.find((x) => x.name === name)!.pidFile;
  await waitFor(
    () => {
      const pid = readPid(file);
      return pid !== undefined && pid !== old && isAlive(pid);
    },
    { timeoutMs: 60_000, intervalMs: 100, what: `${name} restarted` },
  );
}

const kill = (name: string, component: string, describe: string): Fault => ({
  name,
  describe,
  inject: (stack) => killAndWaitRestart(stack, component),
});

// A consumer standing by (ACTIVE_CONSUMERS) holds nothing to lose: the consumer faults hit an owner.
const killOwner = (name: string, describe: string): Fault => ({
  name,
  describe,
  inject: async (stack) => killAndWaitRestart(stack, await activeConsumer(stack)),
});

export const FAULTS: Fault[] = [
  killOwner('consumer-kill', 'a consumer that owns partitions is killed with SIGKILL mid-batch and restarted'),
  kill('api-kill', 'api-1', 'an api replica is killed with SIGKILL; NGINX routes around it'),
  kill('kafka-kill', 'kafka', 'the Kafka broker is killed with SIGKILL and restarted'),
  kill('database-kill', 'ferretdb', 'the database is killed with SIGKILL and restarted'),
  kill('redis-kill', 'redis', 'Redis is killed with SIGKILL and restarted empty'),
  {
    name: 'consumer-stall',
    describe: 'a consumer that owns partitions is stopped (SIGSTOP) past its session timeout, then resumed (SIGCONT)',
    inject: async (stack, config) => {
      const pid = pidOf(stack, await activeConsumer(stack));
      process.kill(pid, 'SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, config.sessionTimeoutMs + 5000));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    },
  },
];

// The faults, one at a time, each applied by pid to a component of the running
// stack (the supervisor restarts what was killed), or a burst of more calls
// than the stack decides (overload-burst.ts).
import type { Config } from '../../common/config.js';
import { activeConsumer } from '../operations/active-consumers.js';
import { runningPid, signalComponent, waitRestarted } from '../stack/running-components.js';
import type { StackInfo } from '../stack/stack-file.js';
import { CLUSTER_FAULTS } from './cluster-faults.js';
import { BURST, overloadBurst } from './overload-burst.js';

/** What a fault tells of itself: figures for the report, and calls of its own the audit must find acknowledged. */
export interface FaultOutcome {
  figures: Record<string, number>;
  acknowledged?: { id: string; accountId: string }[];
}

export interface Fault {
  name: string;
  describe: string;
  /** Applies the fault; resolves once the component is back (restarted or resumed), or the burst is over. */
  inject(stack: StackInfo, config: Config): Promise<FaultOutcome | void>;
}

async function killAndWaitRestart(stack: StackInfo, name: string): Promise<void> {
  await waitRestarted(stack, name, signalComponent(stack, name, 'SIGKILL'), 60_000);
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
      const pid = runningPid(stack, await activeConsumer(stack));
      process.kill(pid, 'SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, config.sessionTimeoutMs + 5000));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    },
  },
  {
    name: 'overload',
    describe: `a burst of deposits on other accounts, ${BURST.rps.toLocaleString('en-US')} a second for ${BURST.seconds} s over ${BURST.connections.toLocaleString('en-US')} connections, open loop, on top of the load`,
    inject: (stack) => overloadBurst(stack.url),
  },
];

/**
 * The faults that apply to a stack: on a single Kafka node the broker is
 * killed whole; on a cluster (KAFKA_NODES=3) its faults take that case's place.
 */
export function faultsFor(stack: StackInfo): Fault[] {
  const cluster = stack.components.some((c) => c.name.startsWith('kafka-'));
  return cluster ? [...FAULTS.filter((f) => f.name !== 'kafka-kill'), ...CLUSTER_FAULTS] : FAULTS;
}

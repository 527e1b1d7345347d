// The faults of a replicated Kafka (KAFKA_NODES=3, docs/kafka-cluster.md),
// each applied by pid to one node of the running stack: the leader of the
// busiest partition killed, the active controller killed, a broker stalled
// past its session, every node restarted in turn. The supervisor restarts
// what was killed; each fault resolves once every partition has its full set
// of in-sync replicas again, so the next case starts from a whole cluster.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../common/config.js';
import { withAdmin } from '../shared/kafka-admin.js';
import { waitFor } from '../shared/wait.js';
import { kafkaNodes, BROKER_SESSION_TIMEOUT_MS } from '../stack/kafka-component.js';
import { pathsFor } from '../stack/paths.js';
import { runningPid, signalComponent, waitRestarted } from '../stack/running-components.js';
import type { StackInfo } from '../stack/stack-file.js';
import type { Fault } from './faults.js';

/** The node with this id, by the supervisor's name for it. */
function nodeName(config: Config, id: number): string {
  const node = kafkaNodes(config).find((n) => n.id === id);
  if (!node) throw new Error(`no local Kafka node ${id}`);
  return node.name;
}

/** The transaction topic's partition that took the most records over `sampleMs`, and its leader. */
export async function busiestPartitionLeader(stack: StackInfo, config: Config, sampleMs = 2000): Promise<{ partition: number; leader: number }> {
  return withAdmin(stack.kafkaBrokers, async (admin) => {
    const before = await admin.fetchTopicOffsets(config.topic);
    await new Promise((r) => setTimeout(r, sampleMs));
    const after = await admin.fetchTopicOffsets(config.topic);
    const growth = after.map((p) => ({ partition: p.partition, records: Number(p.high) - Number(before.find((b) => b.partition === p.partition)?.high ?? p.high) }));
    const busiest = growth.reduce((a, b) => (b.records > a.records ? b : a));
    const metadata = await admin.fetchTopicMetadata({ topics: [config.topic] });
    const leader = metadata.topics[0]!.partitions.find((p) => p.partitionId === busiest.partition)!.leader;
    return { partition: busiest.partition, leader };
  });
}

/**
 * The active controller: the quorum's leader as the nodes record it in their
 * metadata log's `quorum-state` file (the one with the newest epoch). Kafka's
 * Metadata answer names a random broker as controller under KRaft, so an
 * admin client cannot tell it; the command that can is not among the jars
 * the stack installs.
 */
export function activeController(config: Config): number {
  const paths = pathsFor(config);
  let newest = { leaderId: -1, leaderEpoch: -1 };
  for (const node of kafkaNodes(config)) {
    const file = join(paths.data, `kafka-cluster-${config.kafkaNodes}`, `node-${node.id}`, 'log', '__cluster_metadata-0', 'quorum-state');
    if (!existsSync(file)) continue;
    const state = JSON.parse(readFileSync(file, 'utf8')) as { leaderId: number; leaderEpoch: number };
    if (state.leaderId >= 0 && state.leaderEpoch > newest.leaderEpoch) newest = state;
  }
  if (newest.leaderId < 0) throw new Error('no node records a quorum leader');
  return newest.leaderId;
}

/** Resolves once every partition of Teller's topics has all its replicas in sync (after a node came back). */
export async function waitFullyReplicated(stack: StackInfo, config: Config, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    () =>
      withAdmin(stack.kafkaBrokers, async (admin) => {
        const metadata = await admin.fetchTopicMetadata({ topics: [config.topic, config.eventsTopic] });
        return metadata.topics.every((t) => t.partitions.every((p) => p.isr.length === p.replicas.length)) || undefined;
      }).catch(() => undefined),
    { timeoutMs, intervalMs: 1000, what: 'every partition fully replicated' },
  );
}

async function killNode(stack: StackInfo, config: Config, id: number, signal: NodeJS.Signals): Promise<void> {
  const name = nodeName(config, id);
  await waitRestarted(stack, name, signalComponent(stack, name, signal), 90_000);
  await waitFullyReplicated(stack, config);
}

export const CLUSTER_FAULTS: Fault[] = [
  {
    name: 'kafka-leader-kill',
    describe: 'the Kafka node leading the busiest partition is killed with SIGKILL and restarted',
    inject: async (stack, config) => killNode(stack, config, (await busiestPartitionLeader(stack, config)).leader, 'SIGKILL'),
  },
  {
    name: 'kafka-controller-kill',
    describe: 'the active KRaft controller is killed with SIGKILL and restarted',
    inject: (stack, config) => killNode(stack, config, activeController(config), 'SIGKILL'),
  },
  {
    name: 'kafka-broker-stall',
    describe: 'the Kafka node leading the busiest partition is stopped (SIGSTOP) past its broker session, then resumed',
    inject: async (stack, config) => {
      const pid = runningPid(stack, nodeName(config, (await busiestPartitionLeader(stack, config)).leader));
      process.kill(pid, 'SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, BROKER_SESSION_TIMEOUT_MS + 5000));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await waitFullyReplicated(stack, config);
    },
  },
  {
    name: 'kafka-rolling-restart',
    describe: 'every Kafka node is stopped (SIGTERM) and restarted in turn, each once the cluster is whole again',
    inject: async (stack, config) => {
      for (const node of kafkaNodes(config)) await killNode(stack, config, node.id, 'SIGTERM');
    },
  },
];

// What the tests know of the running stack: its URL, its components and their
// pids (from .run/stack.json, written by scripts/stack/start.ts once it is ready),
// and ways to hurt a component and wait for the supervisor to bring it back.
import { readConfig } from '../../common/config.js';
import { pathsFor } from '../../scripts/stack/paths.js';
import { signalComponent, waitRestarted as waitRestartedIn } from '../../scripts/stack/running-components.js';
import { readPid } from '../../scripts/stack/pids.js';
import { readStack as readStackFile, type ComponentInfo, type StackInfo } from '../../scripts/stack/stack-file.js';
import { withAdmin } from '../../scripts/shared/kafka-admin.js';
import { waitFor } from '../../scripts/shared/wait.js';

export { isAlive } from '../../scripts/stack/pids.js';
export { waitFor, type WaitOptions } from '../../scripts/shared/wait.js';
export type { ComponentInfo, StackInfo };

export const config = readConfig();
export const paths = pathsFor(config);

/** The stack as start.ts described it; throws when no stack is up. */
export function readStack(): StackInfo {
  const stack = readStackFile(paths);
  if (!stack) throw new Error(`no ${paths.stackJson}: is the stack running (npm start)?`);
  return stack;
}

/** NGINX's URL: the running stack's, else the one the configuration gives. */
export const baseUrl = readStackFile(paths)?.url ?? `http://${config.host}:${config.port}`;

export function component(name: string): ComponentInfo {
  const c = readStack().components.find((x) => x.name === name);
  if (!c) throw new Error(`the stack has no component ${name}`);
  return c;
}

/** The pid in the component's pid file (rewritten on each restart), if any. */
export function pidOf(name: string): number | undefined {
  return readPid(component(name).pidFile);
}

/** Signals the component's current process by pid; returns that pid. */
export function killComponent(name: string, signal: NodeJS.Signals): number {
  return signalComponent(readStack(), name, signal);
}

/** Waits until `name` runs again under a pid other than `oldPid`; returns the new pid. */
export function waitRestarted(name: string, oldPid: number, timeoutMs = 30_000): Promise<number> {
  return waitRestartedIn(readStack(), name, oldPid, timeoutMs);
}

/** Resolves once GET `url` answers 200. */
export function waitHttpOk(url: string, timeoutMs = 30_000): Promise<true> {
  return waitFor(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200 || undefined;
    },
    { timeoutMs, intervalMs: 200, what: `GET ${url}` },
  );
}

/** The transaction topic's partition count, as the running stack's Kafka has it. */
export function topicPartitions(): Promise<number> {
  return withAdmin(
    readStack().kafkaBrokers,
    async (admin) => (await admin.fetchTopicMetadata({ topics: [config.topic] })).topics[0]!.partitions.length,
    'teller-tests',
  );
}

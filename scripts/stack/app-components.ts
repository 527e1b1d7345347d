// The api replicas, the ledger consumers and the webhook dispatcher: Teller's own processes.
import { join } from 'node:path';
import type { Config } from '../../common/config.js';
import { apiPorts } from './nginx-component.js';
import type { Paths } from './paths.js';
import type { ComponentSpec } from './supervisor.js';

/** The services every child is pointed at, resolved once by the supervisor. */
export interface Endpoints {
  kafkaBrokers: string[];
  mongoUri: string;
  redisUrl: string;
}

function endpointEnv(e: Endpoints): Record<string, string> {
  return { KAFKA_BROKERS: e.kafkaBrokers.join(','), MONGODB_URI: e.mongoUri, REDIS_URL: e.redisUrl };
}

// A larger young generation: each call and each record makes short-lived objects, and with V8's
// default semi-space the consumer spent a large share of its time collecting garbage under load
// (`npm run bench -- --phases contract` with TELLER_NODE_ARGS=--max-semi-space-size=16 against the
// default shows the difference). TELLER_NODE_ARGS comes after it, so it can override it.
export const NODE_FLAGS = ['--max-semi-space-size=64'];

function nodeSpec(config: Config, paths: Paths, name: string, main: string, env: Record<string, string>, port?: number): ComponentSpec {
  return {
    name,
    command: process.execPath,
    args: [...NODE_FLAGS, ...config.nodeArgs, join(paths.root, 'dist', main)],
    env,
    cwd: paths.root,
    logFile: join(paths.logs, `${name}.log`),
    pidFile: join(paths.pids, `${name}.pid`),
    port,
    // A replica finishes its calls in flight (each within the decision deadline) and flushes its producer.
    stopTimeoutMs: 15_000,
    restart: true,
  };
}

export function apiSpecs(config: Config, paths: Paths, e: Endpoints): ComponentSpec[] {
  return apiPorts(config).map((port, i) => {
    const name = `api-${i + 1}`;
    return nodeSpec(config, paths, name, 'api/main.js', { ...endpointEnv(e), API_PORT: String(port), REPLICA_ID: name }, port);
  });
}

export function consumerSpecs(config: Config, paths: Paths, e: Endpoints): ComponentSpec[] {
  return Array.from({ length: config.consumers }, (_, i) => {
    const name = `consumer-${i + 1}`;
    // Each consumer serves its own metrics (its partitions are its own); the port is its component's port.
    const metricsPort = config.consumerMetricsBasePort + i;
    return nodeSpec(config, paths, name, 'consumer/main.js', { ...endpointEnv(e), CONSUMER_ID: name, CONSUMER_METRICS_PORT: String(metricsPort) }, metricsPort);
  });
}

/** The webhook dispatcher (docs/webhooks.md): one, when webhooks and the events they deliver are both on. */
export function webhooksSpecs(config: Config, paths: Paths, e: Endpoints): ComponentSpec[] {
  if (!config.webhooksEnabled || !config.eventsEnabled) return [];
  const port = config.webhooksMetricsPort > 0 ? config.webhooksMetricsPort : undefined;
  return [nodeSpec(config, paths, 'webhooks', 'webhooks/main.js', { ...endpointEnv(e), WEBHOOKS_METRICS_PORT: String(config.webhooksMetricsPort) }, port)];
}

// Every port the stack will listen on must be free before anything starts:
// otherwise another process (another stack, a system service) would answer
// the readiness probes in place of ours.
import { createServer } from 'node:net';
import type { Config } from '../../common/config.js';
import { kafkaNodes } from './kafka-component.js';
import { apiPorts } from './nginx-component.js';

export interface PortUse {
  host: string;
  port: number;
  /** The setting it comes from and what listens on it, for the error. */
  what: string;
}

export function stackPorts(config: Config): PortUse[] {
  const local = '127.0.0.1';
  const uses: PortUse[] = [{ host: config.host, port: config.port, what: 'TELLER_PORT, NGINX' }];
  if (!config.kafkaExternal) {
    for (const node of kafkaNodes(config)) {
      const offset = node.port - config.kafkaPort;
      uses.push({ host: local, port: node.port, what: `KAFKA_PORT + ${offset}, ${node.name}` });
      uses.push({ host: local, port: node.controllerPort, what: `KAFKA_PORT + ${offset + 1}, ${node.name}'s controller` });
    }
  }
  if (!config.mongoExternal) uses.push({ host: local, port: config.mongoPort, what: 'FERRETDB_PORT, FerretDB' });
  if (!config.redisExternal) uses.push({ host: local, port: config.redisPort, what: 'REDIS_PORT, Redis' });
  apiPorts(config).forEach((port, i) => uses.push({ host: config.host, port, what: `API_BASE_PORT + ${i}, api-${i + 1}` }));
  for (let i = 0; i < config.consumers; i++) {
    uses.push({ host: config.host, port: config.consumerMetricsBasePort + i, what: `CONSUMER_METRICS_BASE_PORT + ${i}, consumer-${i + 1} metrics` });
  }
  if (config.webhooksEnabled && config.eventsEnabled && config.webhooksMetricsPort > 0) {
    uses.push({ host: config.host, port: config.webhooksMetricsPort, what: 'WEBHOOKS_METRICS_PORT, the webhook dispatcher metrics' });
  }
  return uses;
}

function isFree({ host, port }: PortUse): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Throws naming every port that is taken, and the setting that chose it. */
export async function assertPortsFree(uses: PortUse[]): Promise<void> {
  const duplicates = uses.filter((u, i) => uses.findIndex((v) => v.port === u.port) !== i);
  const taken = [];
  for (const use of uses) if (!(await isFree(use))) taken.push(use);
  const problems = [
    ...duplicates.map((u) => `port ${u.port} (${u.what}) is also given to another component`),
    ...taken.map((u) => `${u.host}:${u.port} (${u.what}) is in use by another process`),
  ];
  if (problems.length > 0) throw new Error(`cannot start: ${problems.join('; ')}. Stop that process or choose other ports.`);
}

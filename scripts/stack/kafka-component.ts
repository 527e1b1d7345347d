// One Kafka node in KRaft mode (broker and controller in one JVM), run from
// the jars that scripts/install.sh copied from Maven Central.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Kafka, logLevel } from 'kafkajs';
import { localReplication, type Config, type Durability } from '../../common/config.js';
import { ensureDir, type Paths } from './paths.js';
import type { ComponentSpec } from './supervisor.js';

const HOST = '127.0.0.1';

/**
 * How long a cluster's controller waits for a node's heartbeat before fencing
 * it and moving its partitions' leadership to in-sync replicas: the time calls
 * to a dead or stalled leader can take to reach the new one. Kafka's default
 * is 9 s; 6 s still rides out a GC pause on a loaded two-core machine.
 */
export const BROKER_SESSION_TIMEOUT_MS = 2000;

/** One node of the local Kafka: its number (from 1), its ports and where it keeps its files. */
export interface KafkaNode {
  id: number;
  /** The supervisor's name for it: `kafka` alone, `kafka-<id>` in a cluster. */
  name: string;
  port: number;
  controllerPort: number;
}

/** The local nodes KAFKA_NODES asks for: node i listens on KAFKA_PORT + 2(i - 1), its controller on the next port. */
export function kafkaNodes(config: Pick<Config, 'kafkaPort' | 'kafkaNodes'>): KafkaNode[] {
  return Array.from({ length: config.kafkaNodes }, (_, i) => ({
    id: i + 1,
    name: config.kafkaNodes === 1 ? 'kafka' : `kafka-${i + 1}`,
    port: config.kafkaPort + 2 * i,
    controllerPort: config.kafkaPort + 2 * i + 1,
  }));
}

// A single node keeps the folder it always had; a cluster's nodes have one each, under their own.
function kafkaDirs(paths: Paths, node: KafkaNode, nodes: number) {
  const base = nodes === 1 ? join(paths.data, 'kafka') : join(paths.data, `kafka-cluster-${nodes}`, `node-${node.id}`);
  const dir = ensureDir(base);
  return {
    dir,
    logDir: join(dir, 'log'),
    serverProperties: join(dir, 'server.properties'),
    log4j: join(dir, 'log4j.properties'),
    clusterIdFile: nodes === 1 ? join(dir, 'cluster.id') : join(dir, '..', 'cluster.id'),
    classpath: `${join(paths.cache, 'kafka', 'libs')}/*`,
  };
}

/**
 * TELLER_DURABILITY=fsync: every append is synced to disk before the broker
 * answers it (the log's flush runs in the append once this many messages are
 * unflushed), on every topic, consumer offsets included. Otherwise Kafka
 * leaves flushing to the operating system and acknowledges from its page cache.
 */
function flushPolicy(durability: Durability): string[] {
  return durability === 'fsync' ? ['log.flush.interval.messages=1'] : [];
}

function serverProperties(node: KafkaNode, all: KafkaNode[], logDir: string, durability: Durability): string {
  const { replicationFactor, minInsyncReplicas } = localReplication(all.length);
  return [
    '# Rendered by scripts/stack/start.ts on every start; edit the script, not this file.',
    'process.roles=broker,controller',
    `node.id=${node.id}`,
    // Every node votes: a cluster of three keeps its metadata through the loss of one.
    `controller.quorum.voters=${all.map((n) => `${n.id}@${HOST}:${n.controllerPort}`).join(',')}`,
    `listeners=PLAINTEXT://${HOST}:${node.port},CONTROLLER://${HOST}:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${node.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDir}`,
    // The internal topics (consumer offsets among them) are replicated like Teller's own.
    `offsets.topic.replication.factor=${replicationFactor}`,
    `transaction.state.log.replication.factor=${replicationFactor}`,
    `transaction.state.log.min.isr=${minInsyncReplicas}`,
    `min.insync.replicas=${minInsyncReplicas}`,
    `default.replication.factor=${replicationFactor}`,
    `broker.session.timeout.ms=${BROKER_SESSION_TIMEOUT_MS}`,
    `broker.heartbeat.interval.ms=${BROKER_SESSION_TIMEOUT_MS / 4}`,
    // A replica that has fallen out of sync never becomes leader: an acknowledged write is never dropped for availability.
    'unclean.leader.election.enable=false',
    ...flushPolicy(durability),
    // Fewer internal partitions than the default 50: quicker first start, fewer files.
    'offsets.topic.num.partitions=8',
    'transaction.state.log.num.partitions=4',
    // Consumers own their partitions as soon as they join.
    'group.initial.rebalance.delay.ms=0',
    // Topics are created on purpose (scripts/stack/kafka-topics.ts), with the configured partition count.
    'auto.create.topics.enable=false',
    // Threads sized for a 2-core machine shared with the rest of the stack.
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n');
}

// log4j 1 (reload4j): WARN and above to stdout, which the supervisor sends to .run/logs/kafka.log.
const LOG4J = [
  'log4j.rootLogger=WARN, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka=WARN',
  'log4j.logger.org.apache.kafka=WARN',
  'log4j.logger.state.change.logger=WARN',
  // One line saying the broker is up.
  'log4j.logger.kafka.server.KafkaRaftServer=INFO',
  '',
].join('\n');

/** 22 characters of base64url from 16 random bytes, the form Kafka expects of a cluster id. */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Writes each node's config files and formats the storage of a node that has
 * none (all of a cluster's nodes with one cluster id). Refuses to start a node
 * count other than the one the data was made with: the ledger in MongoDB
 * names offsets of the Kafka it was written from.
 */
export async function prepareKafka(config: Config, paths: Paths): Promise<{ formatted: number }> {
  assertSameLayout(config, paths);
  const nodes = kafkaNodes(config);
  let formatted = 0;
  for (const node of nodes) {
    const d = kafkaDirs(paths, node, nodes.length);
    writeFileSync(d.serverProperties, serverProperties(node, nodes, d.logDir, config.durability));
    writeFileSync(d.log4j, LOG4J);
    if (existsSync(join(d.logDir, 'meta.properties'))) continue;
    if (!existsSync(d.clusterIdFile)) writeFileSync(d.clusterIdFile, `${newClusterId()}\n`);
    const clusterId = readFileSync(d.clusterIdFile, 'utf8').trim();
    await execa('java', ['-cp', d.classpath, `-Dlog4j.configuration=file:${d.log4j}`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', d.serverProperties], {
      cwd: paths.root,
      stdin: 'ignore',
    });
    formatted++;
  }
  return { formatted };
}

/** The node count the data folder was first used with is kept beside the data; another count needs empty data. */
function assertSameLayout(config: Config, paths: Paths): void {
  const file = join(ensureDir(paths.data), 'kafka-nodes');
  // Data from before the count was kept is a single node's.
  const singleNodeBefore = existsSync(join(paths.data, 'kafka', 'log', 'meta.properties'));
  if (!existsSync(file) && !singleNodeBefore) {
    writeFileSync(file, `${config.kafkaNodes}\n`);
    return;
  }
  const before = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 1;
  if (!existsSync(file)) writeFileSync(file, `${before}\n`);
  if (before !== config.kafkaNodes) {
    throw new Error(
      `the data in ${paths.data} was written with KAFKA_NODES=${before}, not ${config.kafkaNodes}: ` +
        'its ledger names offsets of that Kafka. Start with KAFKA_NODES=' + String(before) + ', or from empty data (npm run reset)',
    );
  }
}

export function kafkaSpecs(config: Config, paths: Paths): ComponentSpec[] {
  const nodes = kafkaNodes(config);
  return nodes.map((node) => {
    const d = kafkaDirs(paths, node, nodes.length);
    return {
      name: node.name,
      command: 'java',
      args: [
        '-Xms512m',
        '-Xmx1g',
        // Short pauses matter more than throughput for a broker on the request path.
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${d.log4j}`,
        '-cp',
        d.classpath,
        'kafka.Kafka',
        d.serverProperties,
      ],
      cwd: paths.root,
      logFile: join(paths.logs, `${node.name}.log`),
      pidFile: join(paths.pids, `${node.name}.pid`),
      port: node.port,
      // A clean shutdown moves leadership and closes the log; that takes a few seconds.
      stopTimeoutMs: 30_000,
      restart: true,
    };
  });
}

/** Ready when an admin client connects and lists topics. */
export async function kafkaAnswers(brokers: string[]): Promise<boolean> {
  const kafka = new Kafka({ clientId: 'teller-stack-probe', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

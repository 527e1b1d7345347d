// One Kafka node in KRaft mode (broker and controller in one JVM), run from
// the jars that scripts/install.sh copied from Maven Central.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../../common/config.js';
import { ensureDir, type Paths } from './paths.js';
import type { ComponentSpec } from './supervisor.js';

const HOST = '127.0.0.1';

function kafkaDirs(paths: Paths) {
  const dir = ensureDir(join(paths.data, 'kafka'));
  return {
    dir,
    logDir: join(dir, 'log'),
    serverProperties: join(dir, 'server.properties'),
    log4j: join(dir, 'log4j.properties'),
    clusterIdFile: join(dir, 'cluster.id'),
    classpath: `${join(paths.cache, 'kafka', 'libs')}/*`,
  };
}

function serverProperties(config: Config, logDir: string): string {
  const controllerPort = config.kafkaPort + 1;
  return [
    '# Rendered by scripts/stack/start.ts on every start; edit the script, not this file.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${HOST}:${controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${config.kafkaPort},CONTROLLER://${HOST}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${config.kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDir}`,
    // A single node: every internal topic has one replica.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
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

/** Writes the config files and formats the storage directory the first time. */
export async function prepareKafka(config: Config, paths: Paths): Promise<{ formatted: boolean }> {
  const d = kafkaDirs(paths);
  writeFileSync(d.serverProperties, serverProperties(config, d.logDir));
  writeFileSync(d.log4j, LOG4J);
  if (existsSync(join(d.logDir, 'meta.properties'))) return { formatted: false };

  if (!existsSync(d.clusterIdFile)) writeFileSync(d.clusterIdFile, `${newClusterId()}\n`);
  const clusterId = readFileSync(d.clusterIdFile, 'utf8').trim();
  await execa('java', ['-cp', d.classpath, `-Dlog4j.configuration=file:${d.log4j}`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', d.serverProperties], {
    cwd: paths.root,
    stdin: 'ignore',
  });
  return { formatted: true };
}

export function kafkaSpec(config: Config, paths: Paths): ComponentSpec {
  const d = kafkaDirs(paths);
  return {
    name: 'kafka',
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
    logFile: join(paths.logs, 'kafka.log'),
    pidFile: join(paths.pids, 'kafka.pid'),
    port: config.kafkaPort,
    // A clean shutdown moves leadership and closes the log; that takes a few seconds.
    stopTimeoutMs: 30_000,
    restart: true,
  };
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

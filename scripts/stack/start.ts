// `npm start`: installs what is missing, then runs the whole stack in the
// foreground (Kafka, FerretDB, Redis, the consumers, the webhook dispatcher,
// the api replicas, NGINX),
// waits until it is ready and keeps it running. Ctrl-C or SIGTERM stops it in
// order, leaving no process behind.
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { loadConfigOrExit, type Config } from '../../common/config.js';
import { sleep } from '../../common/retry.js';
import { waitFor } from '../shared/wait.js';
import { apiSpecs, consumerSpecs, webhooksSpecs, type Endpoints } from './app-components.js';
import { ferretdbSpec, probeClient, queryProbe, startWatchdog } from './ferretdb-component.js';
import { kafkaAnswers, kafkaSpecs, prepareKafka } from './kafka-component.js';
import { createTopics } from './kafka-topics.js';
import { removeLeftovers } from './leftovers.js';
import { tail } from './log-tail.js';
import { nginxSpec, prepareNginx } from './nginx-component.js';
import { pathsFor, type Paths } from './paths.js';
import { partitionsServed, redisAnswers, redisSpec } from './redis-component.js';
import { runningStackPid, writeStack, writeStackPid } from './stack-file.js';
import { assertPortsFree, stackPorts } from './stack-ports.js';
import { StartError, SupervisedStack } from './supervised-stack.js';
import { createLogger } from './supervisor-log.js';
import { killAllOnExit } from './supervisor.js';

const READY_TIMEOUT_MS = { kafka: 90_000, ferretdb: 30_000, redis: 15_000, api: 60_000, stack: 120_000, partitions: 120_000 };

/** True on 200; otherwise throws with the answer, so a readiness timeout says what was last seen. */
async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${body.slice(0, 300)}`);
  return true;
}

/** Runs scripts/install.sh for the pieces this start needs; it returns at once when they are present. */
async function install(config: Config, paths: Paths): Promise<void> {
  const pieces = ['nginx'];
  if (!config.kafkaExternal) pieces.push('kafka');
  if (!config.mongoExternal) pieces.push('ferretdb');
  if (!config.redisExternal) pieces.push('redis');
  await execa('bash', [join(paths.root, 'scripts', 'install.sh'), ...pieces], { cwd: paths.root, stdin: 'ignore', stdout: 'inherit', stderr: 'inherit' });
}

/**
 * The topics, made once the Kafka nodes agree on them: a new cluster's nodes
 * answer before each knows of every topic just created, and one that does not
 * yet says so (`UNKNOWN_TOPIC_OR_PARTITION`); Kafka's errors are tried again
 * for a minute, Teller's own (a partition count that differs) are not.
 */
async function createTopicsOnceSettled(config: Config, brokers: string[], log: Logger) {
  const giveUpAt = Date.now() + 60_000;
  for (;;) {
    try {
      return await createTopics(config, brokers, (message) => log.warn({ component: 'kafka' }, message));
    } catch (err) {
      if (!(err as Error).name?.startsWith('KafkaJS') || Date.now() > giveUpAt) throw err;
      log.warn({ component: 'kafka', err: (err as Error).message }, 'the topics are not settled yet; trying again');
      await sleep(1000);
    }
  }
}

async function startStack(config: Config, paths: Paths, stack: SupervisedStack, log: Logger): Promise<string> {
  // The configuration's URLs: given ones for external services, else those of the local ones (they follow the ports).
  const e: Endpoints = { kafkaBrokers: config.kafkaBrokers, mongoUri: config.mongoUri, redisUrl: config.redisUrl };

  // The stores first, side by side: Kafka takes the longest.
  const waits: Promise<void>[] = [];
  if (!config.kafkaExternal) {
    const { formatted } = await prepareKafka(config, paths);
    if (formatted > 0) log.info({ component: 'kafka', nodes: formatted }, 'formatted Kafka storage');
    // Each node answers on its own before the topics are made: a cluster elects its controller once a majority is up.
    for (const spec of kafkaSpecs(config, paths)) {
      const node = stack.start('kafka', spec);
      waits.push(stack.ready(node, () => kafkaAnswers([`127.0.0.1:${spec.port}`]), READY_TIMEOUT_MS.kafka));
    }
  }
  if (!config.mongoExternal) {
    const ferretdb = stack.start('ferretdb', ferretdbSpec(config, paths));
    const client = probeClient(e.mongoUri);
    waits.push(stack.ready(ferretdb, () => queryProbe(client, config.mongoDb), READY_TIMEOUT_MS.ferretdb).finally(() => client.close()));
  }
  if (!config.redisExternal) {
    const redis = stack.start('redis', redisSpec(config, paths));
    waits.push(stack.ready(redis, () => redisAnswers(e.redisUrl), READY_TIMEOUT_MS.redis));
  }
  await Promise.all(waits);

  const topics = await createTopicsOnceSettled(config, e.kafkaBrokers, log);
  log.info({ topics }, 'topics ready');

  for (const spec of consumerSpecs(config, paths, e)) stack.start('consumer', spec);
  // Nothing waits for the dispatcher: an endpoint starts where it was registered, whenever its consumer joins.
  for (const spec of webhooksSpecs(config, paths, e)) stack.start('webhooks', spec);
  const apis = apiSpecs(config, paths, e).map((spec) => stack.start('api', spec));
  await Promise.all(apis.map((s) => stack.ready(s, () => httpOk(`http://127.0.0.1:${s.spec.port}/healthz`), READY_TIMEOUT_MS.api)));

  await prepareNginx(config, paths);
  const nginx = stack.start('nginx', nginxSpec(config, paths));
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  // Ready through the whole path: NGINX, a replica, and the replica's view of Kafka, MongoDB and Redis.
  await stack.ready(nginx, () => httpOk(`${url}/readyz`), READY_TIMEOUT_MS.stack);
  // Ready for load once every partition has an owner that has caught up; a slow catch-up is reported, not fatal.
  const partitions = topics.find((t) => t.topic === config.topic)?.partitions ?? config.partitions;
  await waitFor(() => partitionsServed(e.redisUrl, partitions), { timeoutMs: READY_TIMEOUT_MS.partitions, intervalMs: 500, what: 'every partition served' }).catch(
    (err: Error) => log.warn({ err: err.message }, 'not every partition is served yet; calls on those wait for their owner'),
  );

  const ferretdb = stack.first('ferretdb');
  if (ferretdb) stack.watch(startWatchdog(ferretdb, e.mongoUri, config.mongoDb, log));

  writeStack(paths, {
    pid: process.pid,
    url,
    startedAt: new Date().toISOString(),
    supervisorLog: join(paths.logs, 'supervisor.log'),
    ...e,
    components: stack.info(),
  });
  return url;
}

function banner(url: string, stack: SupervisedStack, paths: Paths): string {
  const rel = (p: string) => relative(process.cwd(), p) || p;
  const width = Math.max(...stack.info().map((c) => c.name.length));
  const lines = stack.info().map((c) => `    ${c.name.padEnd(width)}  ${rel(c.log)}${c.port ? `  (port ${c.port})` : ''}`);
  return [
    '',
    `Teller is ready at ${url}`,
    '  logs:',
    `    ${'stack'.padEnd(width)}  ${rel(join(paths.logs, 'supervisor.log'))}`,
    ...lines,
    '  Ctrl-C (or npm run stop) stops everything; data stays in ' + rel(paths.data),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const paths = pathsFor(config);
  for (const dir of [paths.run, paths.logs, paths.pids, paths.data]) mkdirSync(dir, { recursive: true });

  const other = runningStackPid(paths);
  if (other !== undefined && other !== process.pid) {
    process.stderr.write(`A Teller stack is already running from this folder (supervisor pid ${other}); stop it with npm run stop.\n`);
    process.exit(1);
  }
  writeStackPid(paths, process.pid);

  const log = createLogger(config.logLevel, join(paths.logs, 'supervisor.log'));
  const stack = new SupervisedStack(paths, log);
  killAllOnExit();

  let exitCode = 0;
  const shutdown = async (reason: string) => {
    if (stack.stopping) return;
    log.info({ reason }, 'stopping the stack');
    await stack.stop();
    log.info('stack stopped');
    process.exit(exitCode);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stack.stopping) log.info({ signal }, 'already stopping; waiting for the components to exit');
      else void shutdown(signal);
    });
  }

  try {
    await removeLeftovers(paths, log);
    await assertPortsFree(stackPorts(config));
    await install(config, paths);
    const url = await startStack(config, paths, stack, log);
    log.info({ url }, 'stack ready');
    process.stdout.write(banner(url, stack, paths));
  } catch (err) {
    if (stack.stopping) return;
    exitCode = 1;
    const failed = err instanceof StartError ? err.component.spec.logFile : undefined;
    log.error({ err: (err as Error).message, log: failed }, 'the stack could not start');
    if (failed) process.stderr.write(`\nlast lines of ${failed}:\n${tail(failed, 20)}\n`);
    await shutdown('startup failed');
  }
}

await main();

// Redis with a config file of our own (no system service). It holds only what
// the partition owners can write again from their state (read model, outcomes,
// the id registry), so it keeps nothing on disk: a restart always comes back
// empty, and the owners write their whole state back before reads are trusted.
// A persisted copy would come back stale: the owners would find its written
// markers behind what they wrote, and write all of it back anyway.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { keys } from '../../common/read-model.js';
import type { Config } from '../../common/config.js';
import { ensureDir, type Paths } from './paths.js';
import type { ComponentSpec } from './supervisor.js';

function redisConf(config: Config, dir: string): string {
  return [
    '# Rendered by scripts/stack/start.ts on every start; edit the script, not this file.',
    'bind 127.0.0.1',
    'protected-mode yes',
    `port ${config.redisPort}`,
    'daemonize no',
    // Logs go to stdout, which the supervisor sends to .run/logs/redis.log.
    'logfile ""',
    `dir ${dir}`,
    'appendonly no',
    'save ""',
    // Never evict: an evicted account or outcome would be lost without a trace, while a write
    // refused at a memory limit fails, and its owner writes the partition back once Redis takes
    // writes again. CONFIG SET stays enabled: test/integration/read-model-repair.test.ts sets a
    // limit for a moment to make Redis refuse writes.
    'maxmemory-policy noeviction',
    '',
  ].join('\n');
}

export function redisSpec(config: Config, paths: Paths): ComponentSpec {
  const dir = ensureDir(join(paths.data, 'redis'));
  const confFile = join(dir, 'redis.conf');
  writeFileSync(confFile, redisConf(config, dir));
  return {
    name: 'redis',
    command: 'redis-server',
    args: [confFile],
    cwd: paths.root,
    logFile: join(paths.logs, 'redis.log'),
    pidFile: join(paths.pids, 'redis.pid'),
    port: config.redisPort,
    stopTimeoutMs: 10_000,
    restart: true,
  };
}

/** Runs `probe` on a short-lived connection that fails fast instead of retrying. */
async function withProbeConnection<T>(url: string, probe: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await probe(redis);
  } finally {
    redis.disconnect();
  }
}

export async function redisAnswers(url: string): Promise<boolean> {
  return withProbeConnection(url, async (redis) => (await redis.ping()) === 'PONG');
}

/**
 * Whether every partition's owner has said its read model is whole (the
 * marker it sets once it has loaded its state and written it back): until
 * then calls on that partition wait for a consumer that is still catching up.
 */
export async function partitionsServed(url: string, partitions: number): Promise<boolean> {
  const markers = Array.from({ length: partitions }, (_, p) => keys.ready(p));
  return withProbeConnection(url, async (redis) => (await redis.exists(...markers)) === partitions);
}

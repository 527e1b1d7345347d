// FerretDB on SQLite (scripts/ferretdb, built by scripts/install.sh) as the
// embedded MongoDB-compatible server, and a watchdog that restarts it when it
// stops answering real queries: concurrent updates can wedge a SQLite database
// until FerretDB restarts (docs/embedded-database.md), and a ping would not notice.
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { Logger } from 'pino';
import type { Config } from '../../common/config.js';
import { ensureDir, type Paths } from './paths.js';
import type { ComponentSpec, Supervised } from './supervisor.js';
import { withTimeout } from '../shared/wait.js';

export const PROBE_COLLECTION = '_probe';
const PROBE_ID = 'stack-watchdog';

export function ferretdbBinary(paths: Paths): string {
  return join(paths.cache, 'bin', 'teller-ferretdb');
}

export function ferretdbSpec(config: Config, paths: Paths): ComponentSpec {
  const dataDir = ensureDir(join(paths.data, 'ferretdb'));
  return {
    name: 'ferretdb',
    command: ferretdbBinary(paths),
    // SQLite syncs each commit to disk only when an acknowledged call must survive a power cut (docs/durability.md).
    args: ['-port', String(config.mongoPort), '-data', dataDir, '-synchronous', config.durability === 'fsync' ? 'full' : 'normal'],
    cwd: paths.root,
    logFile: join(paths.logs, 'ferretdb.log'),
    pidFile: join(paths.pids, 'ferretdb.pid'),
    port: config.mongoPort,
    stopTimeoutMs: 10_000,
    restart: true,
  };
}

/** A client for probing: short timeouts, so a wedged server fails the probe instead of hanging it. */
export function probeClient(uri: string): MongoClient {
  return new MongoClient(uri, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000, socketTimeoutMS: 5000, maxPoolSize: 1 });
}

/**
 * A real query on the application's database, not a ping: it reads through
 * SQLite, so it fails when that database is wedged. The probe document is
 * written once, so the read has something to find.
 */
export async function queryProbe(client: MongoClient, dbName: string, timeoutMs = 5000): Promise<boolean> {
  const probe = async () => {
    const coll = client.db(dbName).collection<{ _id: string; at: Date }>(PROBE_COLLECTION);
    if (await coll.findOne({ _id: PROBE_ID })) return true;
    await coll.insertOne({ _id: PROBE_ID, at: new Date() }).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err; // another prober won the race
    });
    return (await coll.findOne({ _id: PROBE_ID })) !== null;
  };
  return withTimeout(probe(), timeoutMs, 'FerretDB query probe');
}

export interface WatchdogOptions {
  intervalMs: number;
  /** Consecutive failed probes before a restart. */
  failuresBeforeRestart: number;
  probeTimeoutMs: number;
}

export const DEFAULT_WATCHDOG: WatchdogOptions = { intervalMs: 5000, failuresBeforeRestart: 3, probeTimeoutMs: 5000 };

/** Probes every few seconds; after repeated failures, restarts FerretDB and waits for it to answer. */
export function startWatchdog(ferretdb: Supervised, uri: string, dbName: string, log: Logger, opts: WatchdogOptions = DEFAULT_WATCHDOG): () => Promise<void> {
  let client = probeClient(uri);
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let busy: Promise<void> = Promise.resolve();

  const tick = async () => {
    // While the supervisor is restarting it after a crash, there is nothing to probe.
    if (ferretdb.pid === undefined) return;
    try {
      await queryProbe(client, dbName, opts.probeTimeoutMs);
      failures = 0;
    } catch (err) {
      failures += 1;
      log.warn({ component: 'ferretdb', failures, err: (err as Error).message }, 'FerretDB probe failed');
      if (failures < opts.failuresBeforeRestart || stopped) return;
      failures = 0;
      // A fresh client: the old one's pool may hold sockets to the wedged process.
      await client.close(true).catch(() => undefined);
      client = probeClient(uri);
      await ferretdb.restart(`no answer to a query for ${opts.failuresBeforeRestart} probes`);
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      busy = tick().finally(schedule);
    }, opts.intervalMs);
  };
  schedule();

  return async () => {
    stopped = true;
    clearTimeout(timer);
    await busy.catch(() => undefined);
    await client.close(true).catch(() => undefined);
  };
}

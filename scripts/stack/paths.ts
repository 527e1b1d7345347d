// Where the local stack keeps its files. Relative settings are taken from the
// project root, so the scripts behave the same from any working directory.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../common/config.js';

/** The project root: the nearest folder above this file with a package.json (from scripts/stack or dist/scripts/stack alike). */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const root = findRoot(dirname(fileURLToPath(import.meta.url)));

export interface Paths {
  root: string;
  /** Persistent data: Kafka log, SQLite files, Redis AOF. */
  data: string;
  /** Installed programs: Kafka jars, the FerretDB binary. */
  cache: string;
  /** What exists only while the stack runs: pid files, logs, rendered configs. */
  run: string;
  logs: string;
  pids: string;
  /** The supervisor's pid, present while a stack runs. */
  stackPid: string;
  /** Components of the running stack: names, pids, logs, ports. */
  stackJson: string;
}

export function pathsFor(config: Pick<Config, 'dataDir' | 'cacheDir' | 'runDir'>): Paths {
  const run = resolve(root, config.runDir);
  return {
    root,
    data: resolve(root, config.dataDir),
    cache: resolve(root, config.cacheDir),
    run,
    logs: join(run, 'logs'),
    pids: join(run, 'pids'),
    stackPid: join(run, 'stack.pid'),
    stackJson: join(run, 'stack.json'),
  };
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

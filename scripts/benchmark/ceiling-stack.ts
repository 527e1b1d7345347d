// The ceiling: the stack's replica count of bare Fastify processes behind a
// second NGINX, rendered from the same template and code as the stack's
// (scripts/stack/nginx-component.ts) but on other ports and in its own run directory.
// Every process is started and stopped by pid (each leads its own group).
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../common/config.js';
import { apiPorts, nginxSpec, prepareNginx } from '../stack/nginx-component.js';
import { ensureDir, type Paths } from '../stack/paths.js';
import { Supervised } from '../stack/supervisor.js';
import { waitFor } from '../shared/wait.js';
import type { Tracked } from './process-cpu.js';

export interface Ceiling {
  url: string;
  tracked(): Tracked[];
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** The configuration of the ceiling: the stack's, with its own NGINX and replica ports. */
export function ceilingConfig(config: Config, port: number, apiBasePort: number): Config {
  return Object.freeze({ ...config, port, apiBasePort });
}

export async function startCeiling(config: Config, paths: Paths, runDir: string, log: Logger): Promise<Ceiling> {
  const cpaths: Paths = { ...paths, run: ensureDir(runDir), logs: ensureDir(join(runDir, 'logs')), pids: ensureDir(join(runDir, 'pids')) };
  const started: { kind: string; s: Supervised }[] = [];
  const stop = async () => {
    // NGINX first, then the replicas, as the stack stops.
    for (const kind of ['ceiling-nginx', 'ceiling-api']) {
      await Promise.all(started.filter((c) => c.kind === kind).map((c) => c.s.stop()));
    }
  };
  try {
    const replicas = apiPorts(config).map((port, i) => {
      const name = `ceiling-api-${i + 1}`;
      const s = new Supervised(
        {
          name,
          command: process.execPath,
          args: [join(paths.root, 'dist', 'scripts', 'benchmark', 'ceiling-server.js')],
          env: { PORT: String(port) },
          cwd: paths.root,
          logFile: join(cpaths.logs, `${name}.log`),
          pidFile: join(cpaths.pids, `${name}.pid`),
          port,
          stopTimeoutMs: 5000,
          restart: false,
        },
        log,
      );
      started.push({ kind: 'ceiling-api', s });
      s.start();
      return s;
    });
    for (const s of replicas) {
      await waitFor(() => answers(`http://127.0.0.1:${s.spec.port}/healthz`), {
        what: s.name,
        timeoutMs: 20_000,
        intervalMs: 100,
        abort: () => s.lastExit,
      });
    }
    await prepareNginx(config, cpaths);
    const nginx = new Supervised({ ...nginxSpec(config, cpaths), name: 'ceiling-nginx', restart: false }, log);
    started.push({ kind: 'ceiling-nginx', s: nginx });
    nginx.start();
    const url = `http://127.0.0.1:${config.port}`;
    await waitFor(() => answers(`${url}/nginx-health`), { what: 'ceiling NGINX', timeoutMs: 20_000, intervalMs: 100, abort: () => nginx.lastExit });
    return {
      url,
      tracked: () => started.map((c) => ({ name: c.s.name, kind: c.kind, pid: c.s.pid, group: true })),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

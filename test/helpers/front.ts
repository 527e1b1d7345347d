// Extra fronts on the running stack, for what its own NGINX and replicas are
// not configured to do: an api replica with other settings (API keys), and an
// NGINX rendered from the same template with other settings (a rate limit),
// both on the stack's Kafka, MongoDB and Redis. The test that starts one stops
// it, by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../common/config.js';
import { prepareNginx } from '../../scripts/stack/nginx-component.js';
import { ensureDir, pathsFor, root } from '../../scripts/stack/paths.js';
import { readStack, waitFor } from './stack.js';

export interface Front {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A port nobody listens on now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function httpStatus(url: string): Promise<number | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status;
}

/** An api replica on the stack's services with `env` on top; ready once /readyz answers 200. */
export async function startApiReplica(env: Record<string, string>, name = `api-test-${process.pid}`): Promise<Front> {
  const stack = readStack();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'teller-front-'));
  const out = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [join(root, 'dist', 'api', 'main.js')], {
    cwd: root,
    env: {
      ...process.env,
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      MONGODB_URI: stack.mongoUri,
      REDIS_URL: stack.redisUrl,
      API_PORT: String(port),
      REPLICA_ID: name,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await httpStatus(`${url}/readyz`)) === 200, {
    what: `${name} ready (log in ${dir})`,
    timeoutMs: 30_000,
    abort: () => (child.exitCode !== null ? `exited with ${child.exitCode}` : undefined),
  });
  return { url, port, pid: child.pid!, stop: () => stopChild(child) };
}

/** NGINX from nginx/nginx.conf.template with `env` as configuration, in front of `upstreamPorts`. */
export async function startNginx(env: Record<string, string>, upstreamPorts: number[]): Promise<Front> {
  const port = await freePort();
  const base = upstreamPorts[0]!;
  if (upstreamPorts.some((p, i) => p !== base + i)) throw new Error('upstream ports must be consecutive (API_BASE_PORT + i)');
  const config = readConfig({ ...process.env, ...env, TELLER_PORT: String(port), API_BASE_PORT: String(base), API_REPLICAS: String(upstreamPorts.length) });
  const paths = pathsFor({ ...config, runDir: mkdtempSync(join(tmpdir(), 'teller-nginx-front-')) });
  ensureDir(paths.logs);
  await prepareNginx(config, paths);
  const out = openSync(join(paths.logs, 'nginx.out'), 'a');
  const child = spawn('nginx', ['-p', join(paths.run, 'nginx'), '-e', 'stderr', '-c', join(paths.run, 'nginx.conf'), '-g', 'daemon off;'], {
    cwd: root,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await httpStatus(`${url}/nginx-health`)) === 200, {
    what: `test NGINX on ${port} (logs in ${paths.logs})`,
    timeoutMs: 15_000,
    abort: () => (child.exitCode !== null ? `exited with ${child.exitCode}` : undefined),
  });
  return { url, port, pid: child.pid!, stop: () => stopChild(child) };
}

// A stack started in the background for a program that needs one (the tests'
// setup, the benchmark): `npm start`'s script run detached, its output in a
// file, and a wait until it answers /readyz through NGINX.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { Paths } from './paths.js';
import { isAlive } from './pids.js';
import { readStack } from './stack-file.js';
import { waitFor } from '../shared/wait.js';

/** Starts dist/scripts/stack/start.js detached, output appended to `outFile`; returns the supervisor's pid. */
export function startStackInBackground(paths: Paths, outFile: string, env: NodeJS.ProcessEnv = process.env): number {
  const out = openSync(outFile, 'a');
  try {
    const child = spawn(process.execPath, [join(paths.root, 'dist', 'scripts', 'stack', 'start.js')], {
      cwd: paths.root,
      env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${process.execPath}`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** Resolves once the stack of supervisor `pid` has written stack.json and answers /readyz; rejects if it exits. */
export async function waitStackReady(paths: Paths, pid: number, timeoutMs: number): Promise<true> {
  return waitFor(
    async () => {
      const stack = readStack(paths);
      if (stack?.pid !== pid) return undefined;
      const res = await fetch(`${stack.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200 || undefined;
    },
    { what: 'the Teller stack', timeoutMs, intervalMs: 500, abort: () => (isAlive(pid) ? undefined : 'npm start exited') },
  );
}

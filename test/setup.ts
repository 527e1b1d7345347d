// tap's "before" program: makes sure a stack is running before any test file
// starts. A stack that is already up is reused; otherwise one is started in
// the background and marked as the tests' own, so teardown.ts stops it.
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { readConfig } from '../common/config.js';
import { pathsFor, ensureDir } from '../scripts/lib/paths.js';
import { isAlive } from '../scripts/lib/pids.js';
import { readStack, runningStackPid } from '../scripts/lib/stackfile.js';
import { tail } from '../scripts/lib/tail.js';
import { waitFor } from '../scripts/lib/wait.js';

// Covers an install on a fresh machine (the FerretDB build takes about a minute) and a first Kafka format.
const START_TIMEOUT_MS = 600_000;

const paths = pathsFor(readConfig());
ensureDir(paths.logs);
const ownerFile = join(paths.run, 'test-owned.pid');
const outFile = join(paths.logs, 'start.out');

async function ready(pid: number): Promise<true> {
  return waitFor(
    async () => {
      const stack = readStack(paths);
      if (stack?.pid !== pid) return undefined;
      const res = await fetch(`${stack.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200 || undefined;
    },
    { what: 'the Teller stack', timeoutMs: START_TIMEOUT_MS, intervalMs: 500, abort: () => (isAlive(pid) ? undefined : 'npm start exited') },
  );
}

let pid = runningStackPid(paths);
if (pid !== undefined) {
  console.log(`# reusing the running Teller stack (supervisor pid ${pid})`);
} else {
  console.log(`# starting a Teller stack for the tests (output in ${outFile})`);
  const out = openSync(outFile, 'a');
  const child = spawn(process.execPath, [join(paths.root, 'dist', 'scripts', 'start.js')], {
    cwd: paths.root,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  if (child.pid === undefined) {
    console.error(`# could not start ${process.execPath}`);
    process.exit(1);
  }
  pid = child.pid;
  writeFileSync(ownerFile, `${pid}\n`);
}

try {
  await ready(pid);
  console.log(`# stack ready at ${readStack(paths)?.url}`);
} catch (err) {
  console.error(`# ${(err as Error).message}\n# last lines of ${outFile}:\n${tail(outFile, 30).replace(/^/gm, '#   ')}`);
  process.exit(1);
}

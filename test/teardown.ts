// tap's "after" program: stops the stack only if setup.ts started it, so a
// stack the developer had running is left as it was.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '../common/config.js';
import { pathsFor } from '../scripts/stack/paths.js';
import { readPid, waitExit } from '../scripts/stack/pids.js';
import { runningStackPid } from '../scripts/stack/stack-file.js';

const paths = pathsFor(readConfig());
const ownerFile = join(paths.run, 'test-owned.pid');

if (existsSync(ownerFile)) {
  const owned = readPid(ownerFile);
  rmSync(ownerFile, { force: true });
  const pid = runningStackPid(paths);
  if (owned !== undefined && pid === owned) {
    console.log(`# stopping the Teller stack the tests started (supervisor pid ${pid})`);
    process.kill(pid, 'SIGTERM');
    if (!(await waitExit(pid, 120_000))) {
      console.error(`# the supervisor (pid ${pid}) did not stop within 120 s`);
      process.exit(1);
    }
  }
}

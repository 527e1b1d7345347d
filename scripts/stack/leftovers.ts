// Components left running by a supervisor that was killed outright (SIGKILL
// leaves it no chance to stop them) would hold the ports the new stack needs.
// Their pid files are still in .run/pids; a pid counts as ours only if that
// process runs from this project's folder, since pids get reused.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Paths } from './paths.js';
import { cwdOf, isAlive, readPid, removePid, terminateGroup } from './pids.js';

export async function removeLeftovers(paths: Paths, log: Logger): Promise<void> {
  let files: string[];
  try {
    files = readdirSync(paths.pids).filter((f) => f.endsWith('.pid'));
  } catch {
    return;
  }
  await Promise.all(
    files.map(async (file) => {
      const pidFile = join(paths.pids, file);
      const pid = readPid(pidFile);
      const cwd = pid === undefined ? undefined : cwdOf(pid);
      if (pid !== undefined && isAlive(pid) && cwd !== undefined && (cwd === paths.root || cwd.startsWith(`${paths.root}/`))) {
        log.warn({ component: file.replace(/\.pid$/, ''), pid }, 'stopping a component left over from a previous run');
        await terminateGroup(pid, 10_000);
      }
      removePid(pidFile);
    }),
  );
}

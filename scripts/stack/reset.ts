// `npm run reset`: wipes the stack's persistent data (Kafka log, FerretDB's
// SQLite files, Redis' append-only file). Refuses while a stack runs on it.
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { loadConfigOrExit } from '../../common/config.js';
import { pathsFor } from './paths.js';
import { runningStackPid } from './stack-file.js';

const paths = pathsFor(loadConfigOrExit());
const pid = runningStackPid(paths);
if (pid !== undefined) {
  console.error(`A Teller stack is running from this folder (supervisor pid ${pid}): stop it first with npm run stop.`);
  process.exit(1);
}
rmSync(paths.data, { recursive: true, force: true });
console.log(`Removed ${relative(process.cwd(), paths.data) || paths.data}: the next npm start begins with empty Kafka, FerretDB and Redis.`);

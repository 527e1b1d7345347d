// `npm run stop`: stops the stack running from this folder by signalling its
// supervisor, which stops the components in order, and waits until it is gone.
import { loadConfigOrExit } from '../../common/config.js';
import { pathsFor } from './paths.js';
import { waitExit } from './pids.js';
import { runningStackPid } from './stack-file.js';

const TIMEOUT_MS = 120_000;

const paths = pathsFor(loadConfigOrExit());
const pid = runningStackPid(paths);
if (pid === undefined) {
  console.log('No Teller stack is running from this folder.');
} else {
  console.log(`Stopping the Teller stack (supervisor pid ${pid})...`);
  process.kill(pid, 'SIGTERM');
  if (!(await waitExit(pid, TIMEOUT_MS))) {
    console.error(`The supervisor (pid ${pid}) is still running after ${TIMEOUT_MS / 1000} s; see ${paths.logs}/supervisor.log.`);
    process.exit(1);
  }
  console.log('Stopped.');
}

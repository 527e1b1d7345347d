// tap's "before" program: makes sure a stack is running before any test file
// starts. A stack that is already up is reused; otherwise one is started in
// the background and marked as the tests' own, so teardown.ts stops it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '../common/config.js';
import { startStackInBackground, waitStackReady } from '../scripts/stack/background-stack.js';
import { pathsFor, ensureDir } from '../scripts/stack/paths.js';
import { readStack, runningStackPid } from '../scripts/stack/stack-file.js';
import { tail } from '../scripts/stack/log-tail.js';

// Covers an install on a fresh machine (the FerretDB build takes about a minute) and a first Kafka format.
const START_TIMEOUT_MS = 600_000;

const paths = pathsFor(readConfig());
ensureDir(paths.logs);
const ownerFile = join(paths.run, 'test-owned.pid');
const outFile = join(paths.logs, 'start.out');

/**
 * Settings of a stack started for the tests, unless the environment sets them:
 * webhook retries short enough that test/integration/webhooks.test.ts sees an
 * event dead-lettered, and a hung attempt time out, within seconds.
 */
const TEST_STACK_ENV = {
  WEBHOOK_RETRY_HORIZON_SECONDS: '8',
  WEBHOOK_BACKOFF_BASE_MS: '100',
  WEBHOOK_BACKOFF_CAP_MS: '1000',
  WEBHOOK_TIMEOUT_MS: '1500',
  WEBHOOKS_RELOAD_INTERVAL_MS: '1000',
};

function startOwnStack(): number {
  console.log(`# starting a Teller stack for the tests (output in ${outFile})`);
  try {
    const started = startStackInBackground(paths, outFile, { ...TEST_STACK_ENV, ...process.env });
    writeFileSync(ownerFile, `${started}\n`);
    return started;
  } catch (err) {
    console.error(`# ${(err as Error).message}`);
    process.exit(1);
  }
}

const running = runningStackPid(paths);
if (running !== undefined) console.log(`# reusing the running Teller stack (supervisor pid ${running})`);
const pid = running ?? startOwnStack();

try {
  await waitStackReady(paths, pid, START_TIMEOUT_MS);
  console.log(`# stack ready at ${readStack(paths)?.url}`);
} catch (err) {
  console.error(`# ${(err as Error).message}\n# last lines of ${outFile}:\n${tail(outFile, 30).replace(/^/gm, '#   ')}`);
  process.exit(1);
}

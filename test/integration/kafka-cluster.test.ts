// Teller on a three-node Kafka (KAFKA_NODES=3, docs/kafka-cluster.md): a
// second stack of its own, on other ports and folders beside the suite's,
// runs each of the cluster's faults once at a small scale. After each, the
// client's books must equal every balance, every call must have been
// acknowledged in the end, and the audit must pass.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readConfig } from '../../common/config.js';
import { CLUSTER_FAULTS, waitFullyReplicated } from '../../scripts/chaos/cluster-faults.js';
import { runCase } from '../../scripts/chaos/run-case.js';
import { startStackInBackground, waitStackReady } from '../../scripts/stack/background-stack.js';
import { pathsFor } from '../../scripts/stack/paths.js';
import { isAlive } from '../../scripts/stack/pids.js';
import { readStack } from '../../scripts/stack/stack-file.js';
import { tail } from '../../scripts/stack/log-tail.js';
import { waitFor } from '../../scripts/shared/wait.js';
import { withAdmin } from '../../scripts/shared/kafka-admin.js';

const folder = mkdtempSync(join(tmpdir(), 'teller-cluster-'));
// Every port 10,000 above the suite's stack, and one api replica and one consumer: the faults are Kafka's.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  KAFKA_NODES: '3',
  KAFKA_PORT: '19092',
  FERRETDB_PORT: '37117',
  REDIS_PORT: '16479',
  TELLER_PORT: '18080',
  API_BASE_PORT: '13101',
  API_REPLICAS: '1',
  CONSUMERS: '1',
  CONSUMER_METRICS_BASE_PORT: '13201',
  WEBHOOKS_METRICS_PORT: '13301',
  TELLER_DATA_DIR: join(folder, 'data'),
  TELLER_RUN_DIR: join(folder, 'run'),
};
for (const external of ['KAFKA_BROKERS', 'MONGODB_URI', 'REDIS_URL']) delete env[external];
const config = readConfig(env);
const paths = pathsFor(config);

const outFile = join(folder, 'start.out');
const supervisor = startStackInBackground(paths, outFile, env);
t.teardown(async () => {
  if (isAlive(supervisor)) process.kill(supervisor, 'SIGTERM');
  await waitFor(() => !isAlive(supervisor) || undefined, { timeoutMs: 90_000, intervalMs: 500, what: 'the cluster stack stopped' }).catch(() => undefined);
  // A failed case leaves the stack's logs, data and the calls it acknowledged for a look afterwards.
  if (t.passing()) rmSync(folder, { recursive: true, force: true });
  else t.comment(`the three-node stack's logs, data and acknowledged calls are kept in ${folder}`);
});

try {
  await waitStackReady(paths, supervisor, 600_000);
} catch (err) {
  t.fail(`the three-node stack did not start: ${(err as Error).message}\n${tail(outFile, 30)}`);
  process.exit(1);
}
const stack = readStack(paths)!;

t.test('every topic has three replicas, two of them needed for a write', async (t) => {
  const metadata = await withAdmin(stack.kafkaBrokers, (admin) => admin.fetchTopicMetadata({ topics: [config.topic, config.eventsTopic] }));
  for (const topic of metadata.topics) {
    for (const p of topic.partitions) t.equal(p.replicas.length, 3, `${topic.name}[${p.partitionId}] has three replicas`);
  }
  const configs = await withAdmin(stack.kafkaBrokers, (admin) =>
    admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: config.topic, configNames: ['min.insync.replicas'] }] }),
  );
  t.equal(configs.resources[0]!.configEntries[0]!.configValue, '2', 'min.insync.replicas=2 on the transaction topic');
  await waitFullyReplicated(stack, config);
});

for (const fault of CLUSTER_FAULTS) {
  t.test(`${fault.name}: ${fault.describe}`, async (t) => {
    const r = await runCase(fault, { stack, config, partitions: config.partitions, durationMs: 12_000, workers: 12, accounts: 40, outDir: folder });
    t.comment(JSON.stringify({ calls: r.calls, acknowledged: r.acknowledged, failed: r.failed, failingSeconds: r.failingSeconds, recoverySeconds: r.recoverySeconds }));
    t.ok(r.acknowledged > 0, 'calls were acknowledged under the fault');
    t.equal(r.unresolved, 0, 'every call was eventually acknowledged');
    t.same(r.mismatched, [], "no balance differs from the client's books");
    t.not(r.recoverySeconds, null, 'every partition decides calls again');
    t.same(r.audit.violations, [], 'the audit passes: invariants, acknowledged ids once, replay equals the ledger');
  });
}

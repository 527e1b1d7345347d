// Each chaos case at a small scale: kill or stall one component, or overload
// the stack with a burst, under a bounded load; then the client's books must
// equal the read model, every acknowledged id must be in the ledger once, and
// the audit must pass.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { FAULTS } from '../../scripts/chaos/faults.js';
import { runCase } from '../../scripts/chaos/run-case.js';
import { config, readStack } from '../helpers/stack.js';

const stack = readStack();
const outDir = mkdtempSync(join(tmpdir(), 'teller-chaos-'));

const admin = new Kafka({ brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
await admin.connect();
const partitions = (await admin.fetchTopicMetadata({ topics: [config.topic] })).topics[0]!.partitions.length;
await admin.disconnect();

for (const fault of FAULTS) {
  t.test(`${fault.name}: ${fault.describe}`, async (t) => {
    const r = await runCase(fault, { stack, config, partitions, durationMs: 12_000, workers: 16, accounts: 40, outDir });
    t.comment(JSON.stringify({ calls: r.calls, acknowledged: r.acknowledged, failed: r.failed, recoverySeconds: r.recoverySeconds, fault: r.faultFigures }));
    t.ok(r.acknowledged > 0, 'calls were acknowledged under the fault');
    t.equal(r.unresolved, 0, 'every call was eventually acknowledged');
    t.same(r.mismatched, [], "no balance differs from the client's books");
    t.not(r.recoverySeconds, null, 'every partition decides calls again');
    t.same(r.audit.violations, [], 'the audit passes: invariants, acknowledged ids once, replay equals the ledger');
    if (fault.name === 'overload') {
      const figures = r.faultFigures ?? {};
      t.ok((figures.burst_sent ?? 0) > 0, 'the burst was sent');
      t.equal(figures.burst_failed, 0, 'no call of the burst failed: each was accepted or refused (no 502, 504 or hang)');
      t.equal(figures.refused_in_ledger, 0, 'no refused call of the burst is in the ledger');
    }
  });
}

// npm run chaos: a bounded mixed load through NGINX while, one at a time, each
// fault of scripts/chaos/faults.ts hits the running stack; after each, the
// client's books are compared with the read model and the audit runs.
//
//   node dist/scripts/chaos/run-chaos.js [--cases a,b] [--seconds N] [--workers N] [--accounts N]
// Needs a running stack (npm start). Results: bench/results/chaos-<stamp>.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfigOrExit } from '../../common/config.js';
import { faultsFor } from './faults.js';
import { markdownTable, runCase, type CaseReport } from './run-case.js';
import { pathsFor } from '../stack/paths.js';
import { readStack, runningStackPid } from '../stack/stack-file.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const config = loadConfigOrExit();
const paths = pathsFor(config);
const stack = runningStackPid(paths) !== undefined ? readStack(paths) : undefined;
if (!stack) {
  process.stderr.write('no running stack: start one with npm start\n');
  process.exit(2);
}
const wanted = arg('--cases')?.split(',');
const available = faultsFor(stack);
const faults = wanted ? available.filter((f) => wanted.includes(f.name)) : available;
if (faults.length === 0 || (wanted && faults.length < wanted.length)) {
  process.stderr.write(`no such case on this stack; its cases are ${available.map((f) => f.name).join(', ')}\n`);
  process.exit(2);
}

const admin = new Kafka({ brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
await admin.connect();
const partitions = (await admin.fetchTopicMetadata({ topics: [config.topic] })).topics[0]!.partitions.length;
await admin.disconnect();

const outDir = join(paths.root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const reports: CaseReport[] = [];
for (const fault of faults) {
  process.stderr.write(`chaos: ${fault.name}: ${fault.describe}\n`);
  const report = await runCase(fault, {
    stack,
    config,
    partitions,
    durationMs: Number(arg('--seconds') ?? 30) * 1000,
    workers: Number(arg('--workers') ?? 32),
    accounts: Number(arg('--accounts') ?? 200),
    outDir,
  });
  reports.push(report);
  process.stderr.write(`${markdownTable([report]).split('\n')[2]}\n`);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const table = markdownTable(reports);
writeFileSync(join(outDir, `chaos-${stamp}.json`), JSON.stringify({ at: new Date().toISOString(), cases: reports }, null, 2));
writeFileSync(join(outDir, `chaos-${stamp}.md`), `# Chaos run ${stamp}\n\n${table}\n`);
console.log(table);
const ok = reports.every((r) => r.booksMatch && r.audit.ok);
console.log(ok ? 'chaos: every case kept the books and passed the audit' : 'chaos: FAILED');
process.exit(ok ? 0 : 1);

// The index-cost phase: what each of the ledger's indexes costs an insert.
// For each index set (index-cost-figures.ts), from `_id` alone to every index
// the consumers declare, the same number of ledger documents (decided by the
// ledger's rules, ledger-documents.ts) is inserted the way the consumer's
// writer inserts them, insertMany({ordered: false}) of its largest size, into
// a fresh collection of a scratch database, timed, with the database
// process's CPU over each set's inserts. Only the database is needed: no
// Kafka, Redis, NGINX, api or consumer.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { MongoClient, type Db } from 'mongodb';
import type { LedgerDoc } from '../../common/types.js';
import { MAX_DOCS_PER_INSERT } from '../../consumer/ledger-writer.js';
import { readPid } from '../stack/pids.js';
import type { BenchContext } from './bench-context.js';
import { emptyPhase, type PhaseResult } from './bench-result.js';
import { BASELINE_SET, INDEX_SETS, indexNames, indexSetFigures, type IndexSet, type IndexSetFigures } from './index-cost-figures.js';
import { LedgerDocuments } from './ledger-documents.js';
import { isLoopbackUri, listenerPid, mongoUriPort } from './listener-pid.js';
import { clockTicks, cpuBetween, sampleCpu, type Tracked } from './process-cpu.js';

/** Dropped before the phase, between sets and after it; nothing else lives there. */
export const INDEX_COST_DB = 'teller_bench_index_cost';
const COLLECTION = 'transactions';
/** The same accounts, types and amounts under every set; only the random ids differ. */
const SEED = 11;

interface DatabaseProcess {
  tracked: Tracked | undefined;
  label: string;
}

/** The stack's FerretDB when it started one, else the process listening on the URI's port on this machine. */
function databaseProcess(ctx: BenchContext): DatabaseProcess {
  const component = ctx.stack.info.components.find((c) => c.kind === 'ferretdb');
  const componentPid = component ? readPid(component.pidFile) : undefined;
  if (component && componentPid !== undefined) {
    return { tracked: { name: component.name, kind: 'ferretdb', pid: componentPid, group: true }, label: `${component.name} (pid ${componentPid})` };
  }
  const uri = ctx.config.mongoUri;
  if (!isLoopbackUri(uri)) return { tracked: undefined, label: 'none: the database is not on this machine' };
  const port = mongoUriPort(uri);
  const pid = port === undefined ? undefined : listenerPid(port);
  if (pid === undefined) return { tracked: undefined, label: `none: no readable process listens on port ${port ?? '?'}` };
  let name = 'database';
  try {
    name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || name;
  } catch {
    // gone or unreadable: the pid still says which
  }
  return { tracked: { name, kind: 'database', pid, group: false }, label: `${name} (pid ${pid})` };
}

/** A fresh collection with the set's indexes, checked against what the server lists. */
async function freshCollection(db: Db, set: IndexSet) {
  await db.dropDatabase();
  await db.createCollection(COLLECTION);
  const collection = db.collection<LedgerDoc>(COLLECTION);
  for (const index of set.indexes) await collection.createIndex(index.key, { name: index.name });
  const listed = (await collection.listIndexes().toArray()).map((index) => String(index.name)).sort();
  const wanted = indexNames(set).sort();
  if (listed.join() !== wanted.join()) throw new Error(`indexes ${listed.join(', ')} where ${wanted.join(', ')} were created`);
  return collection;
}

interface Measured {
  documents: number;
  seconds: number;
  cpuSeconds: number | null;
  /** CPU seconds by kind of process over the inserts: the database's and this process's. */
  cpuByKind: Record<string, number>;
  error?: string;
}

/** Inserts `docs` in batches, one at a time, until all are in, one fails, or the time is up. */
async function insertTimed(ctx: BenchContext, db: Db, set: IndexSet, docs: LedgerDoc[], database: DatabaseProcess): Promise<Measured> {
  const collection = await freshCollection(db, set);
  const loadgen: Tracked = { name: 'loadgen', kind: 'loadgen', pid: process.pid, group: false };
  const tracked = database.tracked ? [database.tracked, loadgen] : [loadgen];
  const deadline = Date.now() + ctx.opts.indexCostTimeoutS * 1000;
  ctx.progress.start(`index-cost: ${set.key}`, docs.length, 'docs');
  const before = sampleCpu(tracked);
  const started = performance.now();
  let documents = 0;
  let error: string | undefined;
  try {
    for (let from = 0; from < docs.length; from += MAX_DOCS_PER_INSERT) {
      if (Date.now() > deadline) {
        error = `out of time after ${ctx.opts.indexCostTimeoutS} s`;
        break;
      }
      const inserted = await collection.insertMany(docs.slice(from, from + MAX_DOCS_PER_INSERT), { ordered: false });
      documents += inserted.insertedCount;
      const seconds = (performance.now() - started) / 1000;
      ctx.progress.update(documents, `${Math.round(documents / Math.max(seconds, 0.001)).toLocaleString('en-US')} docs/s`);
    }
  } catch (err) {
    error = (err as Error).message;
  }
  const seconds = (performance.now() - started) / 1000;
  const after = sampleCpu(tracked);
  ctx.progress.stop();
  const usage = cpuBetween(before, after, clockTicks());
  const cpuSeconds = database.tracked ? (usage.byKind[database.tracked.kind] ?? null) : null;
  return { documents, seconds, cpuSeconds, cpuByKind: usage.byKind, ...(error === undefined ? {} : { error }) };
}

/** The phase's row of the CPU table: the sets' measured windows added up. */
function addCpu(result: PhaseResult, measured: Measured): void {
  const add = (a: number | undefined, b: number) => Math.round(((a ?? 0) + b) * 100) / 100;
  for (const [kind, seconds] of Object.entries(measured.cpuByKind)) result.cpu_seconds[kind] = add(result.cpu_seconds[kind], seconds);
  result.cpu_wall_s = add(result.cpu_wall_s, measured.seconds);
}

async function measureSet(ctx: BenchContext, db: Db, set: IndexSet, database: DatabaseProcess, result: PhaseResult): Promise<IndexSetFigures> {
  const { config, opts } = ctx;
  const documents = new LedgerDocuments({
    accounts: opts.accounts,
    partitions: config.partitions,
    accountPrefix: `ic${ctx.stamp}`,
    seed: SEED,
    startMs: Date.now(),
    requestTtlSeconds: config.requestTtlSeconds,
    holdLimit: config.maxHoldsPerAccount,
  });
  // Decided before the clock starts: the figures are the database's, not the rules'.
  const docs = documents.next(opts.indexCostDocuments);
  const measured = await insertTimed(ctx, db, set, docs, database);
  addCpu(result, measured);
  const figures = indexSetFigures(set, measured, result.index_sets?.[BASELINE_SET]);
  ctx.progress.note(
    `index-cost: ${figures.indexes.join(' + ')}: ${figures.docs_per_s?.toLocaleString('en-US') ?? '-'} docs/s` +
      `${figures.database_cpu_us_per_doc === null ? '' : `, ${figures.database_cpu_us_per_doc} us of database CPU a document`}${figures.error ? ` (${figures.error})` : ''}`,
  );
  return figures;
}

export async function indexCostPhase(ctx: BenchContext): Promise<PhaseResult> {
  const count = ctx.opts.indexCostDocuments;
  const result = emptyPhase(
    'index-cost',
    `${count.toLocaleString('en-US')} ledger documents inserted in batches of ${MAX_DOCS_PER_INSERT} under each index set, into a fresh collection of ${INDEX_COST_DB}`,
  );
  const database = databaseProcess(ctx);
  result.batch_size = MAX_DOCS_PER_INSERT;
  result.database_process = database.label;
  const sets: Record<string, IndexSetFigures> = {};
  result.index_sets = sets;
  const client = new MongoClient(ctx.config.mongoUri, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 120_000 });
  try {
    await client.connect();
    const db = client.db(INDEX_COST_DB);
    // One unmeasured batch first, so the first set does not pay for the server's warm-up.
    const warmUp = await freshCollection(db, INDEX_SETS[0] as IndexSet);
    await warmUp.insertMany(new LedgerDocuments({ accounts: 10, partitions: 1, accountPrefix: 'warm', seed: 1, startMs: 0, requestTtlSeconds: 60, holdLimit: 10 }).next(MAX_DOCS_PER_INSERT));
    for (const set of INDEX_SETS) sets[set.key] = await measureSet(ctx, db, set, database, result);
  } finally {
    ctx.progress.stop();
    await client
      .db(INDEX_COST_DB)
      .dropDatabase()
      .catch((err: Error) => (result.cleanup_problems = [`dropping ${INDEX_COST_DB}: ${err.message}`]));
    await client.close().catch(() => undefined);
  }
  const all = sets.all;
  result.rps = all?.docs_per_s ?? null;
  result.ratio = all?.ratio_to_id_only ?? null;
  result.ratio_of = '_id only';
  const failed = Object.entries(sets).filter(([, figures]) => figures.error);
  if (failed.length > 0) result.error = failed.map(([key, figures]) => `${key}: ${figures.error}`).join('; ');
  return result;
}

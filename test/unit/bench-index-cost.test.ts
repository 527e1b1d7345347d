// The index-cost phase's parts that need no database: its flags, the ledger
// documents it inserts, its index sets and figures, its report, and how it
// finds the database's process.
import { createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { partitionOf } from '../../common/message.js';
import type { LedgerDoc } from '../../common/types.js';
import { LEDGER_INDEXES } from '../../consumer/mongo.js';
import { databaseOnly, parseArgs, PHASES } from '../../scripts/benchmark/bench-options.js';
import { emptyPhase, type BenchResult } from '../../scripts/benchmark/bench-result.js';
import { INDEX_SETS, indexCostTable, indexSetFigures, type IndexSet } from '../../scripts/benchmark/index-cost-figures.js';
import { LedgerDocuments, type LedgerDocumentsOptions } from '../../scripts/benchmark/ledger-documents.js';
import { isLoopbackUri, listenerPid, listeningInodes, mongoUriPort } from '../../scripts/benchmark/listener-pid.js';
import { renderMarkdown } from '../../scripts/benchmark/results-markdown.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const OPTIONS: LedgerDocumentsOptions = { accounts: 40, partitions: 6, accountPrefix: 'ic', seed: 3, startMs: 1_700_000_000_000, requestTtlSeconds: 600, holdLimit: 1000 };

t.test('flags: index-cost runs only when named, with its own document count', async (t) => {
  t.notOk(PHASES.includes('index-cost'), 'not in a run that names no phases');
  t.same(parseArgs(['--phases', 'index-cost']).phases, ['index-cost']);
  t.same(parseArgs(['--phases', 'index-cost,drain']).phases, ['drain', 'index-cost'], 'in run order, last');
  t.equal(parseArgs([]).indexCostDocuments, 100_000);
  t.equal(parseArgs(['--quick']).indexCostDocuments, 20_000);
  t.equal(parseArgs(['--index-cost-documents', '5_000']).indexCostDocuments, 5000);
  t.equal(parseArgs(['--index-cost-documents=7000']).indexCostDocuments, 7000);
  t.equal(parseArgs([], { BENCH_INDEX_COST_DOCUMENTS: '9000' }).indexCostDocuments, 9000);
  t.equal(parseArgs(['--index-cost-documents', '10'], { BENCH_INDEX_COST_DOCUMENTS: '9000' }).indexCostDocuments, 10, 'the flag wins');
  t.equal(parseArgs([]).indexCostTimeoutS, 300);
  t.throws(() => parseArgs(['--index-cost-documents', '0']), /integer >= 1/);
  t.throws(() => parseArgs(['--index-cost-documents']), /needs a value/);
  t.ok(databaseOnly(['index-cost']), 'named alone, it needs no stack');
  t.notOk(databaseOnly(['index-cost', 'drain']));
  t.notOk(databaseOnly([]));
});

t.test('documents: decided by the ledger rules, at the next offset of the account partition, with UUID ids', async (t) => {
  const docs = new LedgerDocuments(OPTIONS).next(4000);
  t.equal(docs.length, 4000);
  t.equal(new Set(docs.map((d) => d.id)).size, docs.length, 'every id new');
  t.ok(docs.every((d) => UUID.test(d.id)), 'random UUIDs, as clients send them');
  const nextOffset = new Map<number, number>();
  for (const d of docs) {
    const partition = partitionOf(d.accountId, OPTIONS.partitions);
    const offset = nextOffset.get(partition) ?? 0;
    nextOffset.set(partition, offset + 1);
    if (d.partition !== partition || d.offset !== offset || d._id !== `${partition}:${offset}`) {
      t.fail(`document ${d._id} of ${d.accountId} is not at ${partition}:${offset}`);
      return;
    }
  }
  t.ok(docs.every((d) => /^ic-\d+$/.test(d.accountId) && typeof d.receivedAt === 'number' && d.decidedAt === d.receivedAt));
  const count = (f: (d: LedgerDoc) => boolean) => docs.filter(f).length;
  t.ok(count((d) => d.type === 'deposit') > 1000, 'deposits');
  t.ok(count((d) => d.type === 'withdraw_request' && d.status === 'approved') > 300, 'approved requests');
  t.ok(count((d) => d.type === 'withdraw_request' && d.status === 'denied') > 0, 'denied requests: accounts start empty');
  t.ok(count((d) => d.type === 'withdraw' && d.requestId !== undefined) > 300, 'withdrawals settling a named hold');
  t.ok(count((d) => d.type === 'withdraw' && d.requestId === undefined) > 0, 'withdrawals of accounts without a hold');
  t.ok(docs.filter((d) => d.type === 'withdraw_request').every((d) => d.expiresInSeconds === 600), "a request carries the api's time to live");
});

t.test('documents: each account carries its balance and holds from one document to the next', async (t) => {
  const docs = new LedgerDocuments(OPTIONS).next(3000);
  const balance = new Map<string, number>();
  const holds = new Map<string, Map<string, number>>();
  for (const d of docs) {
    const held = holds.get(d.accountId) ?? new Map<string, number>();
    holds.set(d.accountId, held);
    let expected = balance.get(d.accountId) ?? 0;
    if (d.type === 'deposit') expected += d.amount;
    if (d.type === 'withdraw') {
      expected -= d.amount;
      if (d.requestId !== undefined) {
        t.equal(held.get(d.requestId), d.amount, `${d._id} settles an open hold of its account for its amount`);
        held.delete(d.requestId);
      }
    }
    if (d.type === 'withdraw_request' && d.status === 'approved') held.set(d.id, d.amount);
    const reserved = [...held.values()].reduce((a, b) => a + b, 0);
    if (d.balanceAfter !== expected || d.reservedAfter !== reserved) {
      t.fail(`${d._id}: balance ${d.balanceAfter} reserved ${d.reservedAfter}, expected ${expected} and ${reserved}`);
      return;
    }
    balance.set(d.accountId, expected);
  }
  t.pass('every balance and reservation follows from the documents before it');
});

t.test('documents: the seed fixes accounts, types and amounts; the ids differ', async (t) => {
  const shape = (d: LedgerDoc) => [d._id, d.accountId, d.type, d.amount, d.status].join();
  const first = new LedgerDocuments(OPTIONS).next(500);
  const second = new LedgerDocuments(OPTIONS).next(500);
  t.same(first.map(shape), second.map(shape));
  t.notOk(first.some((d, i) => d.id === second[i]?.id));
  t.throws(() => new LedgerDocuments({ ...OPTIONS, accounts: 0 }), /at least one account/);
});

t.test('index sets: from _id alone to every index the consumers create', async (t) => {
  t.same(INDEX_SETS.map((s) => s.key), ['id_only', 'statement', 'statement_id', 'statement_request', 'all']);
  t.same(INDEX_SETS[0]?.indexes, []);
  t.same(INDEX_SETS.at(-1)?.indexes, Object.values(LEDGER_INDEXES), 'the last set is every index consumer/mongo.ts declares');
  t.same(INDEX_SETS[2]?.indexes.map((i) => i.name), ['account_offset', 'id']);
  t.same(INDEX_SETS[3]?.indexes.map((i) => i.name), ['account_offset', 'request_id']);
});

t.test('figures: rate, ratio to _id only, database CPU a document', async (t) => {
  const [idOnly, , , , all] = INDEX_SETS as IndexSet[];
  const base = indexSetFigures(idOnly as IndexSet, { documents: 100_000, seconds: 4, cpuSeconds: 3.8 }, undefined);
  t.match(base, { indexes: ['_id_'], docs_per_s: 25_000, ratio_to_id_only: 1, database_cpu_s: 3.8, database_cpu_us_per_doc: 38 });
  const four = indexSetFigures(all as IndexSet, { documents: 100_000, seconds: 10, cpuSeconds: 9.4 }, base);
  t.match(four, { indexes: ['_id_', 'account_offset', 'id', 'request_id'], docs_per_s: 10_000, ratio_to_id_only: 0.4, database_cpu_us_per_doc: 94 });
  const noCpu = indexSetFigures(all as IndexSet, { documents: 0, seconds: 0, cpuSeconds: null, error: 'out of time' }, base);
  t.match(noCpu, { docs_per_s: null, ratio_to_id_only: null, database_cpu_s: null, database_cpu_us_per_doc: null, error: 'out of time' });
});

t.test('report: a row per index set, and the phase in the main table in docs/s', async (t) => {
  const [idOnly, , , , all] = INDEX_SETS as IndexSet[];
  const base = indexSetFigures(idOnly as IndexSet, { documents: 100_000, seconds: 4, cpuSeconds: 3.8 }, undefined);
  const four = indexSetFigures(all as IndexSet, { documents: 100_000, seconds: 10, cpuSeconds: null }, base);
  const phase = { ...emptyPhase('index-cost', '100,000 ledger documents'), rps: 10_000, ratio: 0.4, ratio_of: '_id only', index_sets: { id_only: base, all: four }, database_process: 'ferretdb (pid 7)' };
  const rows = indexCostTable(phase);
  t.equal(rows[2], '| _id_ | 100,000 | 25,000 | 100.0% | 38.0 |');
  t.equal(rows[3], '| _id_ + account_offset + id + request_id | 100,000 | 10,000 | 40.0% | - |');
  t.same(indexCostTable(emptyPhase('index-cost', '')), [], 'no table when no set ran');
  const result: BenchResult = {
    version: 1,
    started_at: '2026-11-23T20:00:00.000Z',
    finished_at: '2026-11-23T20:01:00.000Z',
    command: 'npm run bench -- --phases index-cost',
    git: { commit: '0123456789abcdef', dirty: false },
    machine: { cores: 2, cpu_model: 'Test CPU', memory_gib: 24, kernel: '6.1', node: 'v22', load_avg_at_start: [0, 0, 0] },
    config: { apiReplicas: 2, consumers: 2, partitions: 6 },
    options: { connections: 150 },
    stack: { url: 'http://127.0.0.1:8080', started_by_bench: false },
    phases: { 'index-cost': phase },
  };
  const md = renderMarkdown(result);
  t.match(md, /\| index-cost \| 10,000 docs\/s \| 40\.0% of _id only \|/);
  t.match(md, /Inserts by index set \(100,000 ledger documents; the database's CPU read from ferretdb \(pid 7\)\):/);
  t.match(md, /\| _id_ \+ account_offset \+ id \+ request_id \| 100,000 \| 10,000 \| 40\.0% \| - \|/);
});

t.test("the database's process: listening sockets in /proc, the URI's port", async (t) => {
  const text = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:6BA8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0',
    '   1: 0100007F:6BA8 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 20 4 30 10 -1',
    '   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0 100 0 0 10 0',
  ].join('\n');
  t.same(listeningInodes(text, 27560), ['4242'], 'the listening socket, not a connection on the same port');
  t.same(listeningInodes(text, 8080), ['4444']);
  t.same(listeningInodes(text, 1), []);
  t.equal(mongoUriPort('mongodb://127.0.0.1:27560/teller'), 27560);
  t.equal(mongoUriPort('mongodb://user:pw@localhost/teller'), 27017);
  t.equal(mongoUriPort('mongodb+srv://cluster.example/teller'), undefined);
  t.ok(isLoopbackUri('mongodb://127.0.0.1:27117/teller'));
  t.ok(isLoopbackUri('mongodb://localhost:27117'));
  t.notOk(isLoopbackUri('mongodb://db.internal:27017/teller'));

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  t.equal(listenerPid((server.address() as AddressInfo).port), process.pid, 'this process, which listens on the port');
});

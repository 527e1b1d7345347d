// GET /v1/transactions/:id/explanation and its account-scoped twin through
// Fastify's inject (api/explanations.ts, api/routes/v1/explanations.ts): the
// ledger, the snapshots and the log are in memory, holding the scenario of
// test/helpers/explained-log.ts as an owner decided it. The answer is the
// replayed decision with what it read; a repeat is found by its offset; a
// replay whose history is gone is a 409, one that cannot finish in time a 503.
import SwaggerParser from '@apidevtools/swagger-parser';
import t from 'tap';
import { Explanations, type ExplanationSources } from '../../api/explanations.js';
import { v1Body } from '../../api/reply.js';
import type { RawRecord } from '../../consumer/batch-decision.js';
import { LogReadTimeout, type LogBounds, type OffsetRange, type TakeRecords } from '../../consumer/log-range.js';
import type { PartitionSnapshot } from '../../consumer/partition.js';
import { offsetOf, PARTITION, PARTITIONS, runLive, WINDOW_MS } from '../helpers/explained-log.js';
import { build, PROBLEM } from '../helpers/in-memory-app.js';

const run = runLive();

/**
 * The log of the scenario, handed out a few records a batch; `first`: the
 * oldest offset still held. `hold`: nothing is read before it resolves, and a
 * read still waiting at its deadline fails as the real reader's does.
 */
function memoryLog(records: RawRecord[], first = 0, hold?: Promise<void>) {
  const reads: OffsetRange[] = [];
  return {
    reads,
    bounds: async () => new Map<number, LogBounds>([[PARTITION, { first, end: records.length }]]),
    read: async (ranges: readonly OffsetRange[], take: TakeRecords, deadline = Number.POSITIVE_INFINITY) => {
      if (hold) await Promise.race([hold, new Promise((_, reject) => setTimeout(() => reject(new LogReadTimeout()), deadline - Date.now()))]);
      for (const range of ranges) {
        reads.push(range);
        for (let at = range.from; at < range.to; at += 4) await take(range.partition, records.slice(at, Math.min(at + 4, range.to)));
      }
    },
  };
}

/** The snapshots kept: those before `offsets`, as the live run stored them. */
const keptAt = (offsets: number[]) => ({
  loadAtOrBefore: async (_partition: number, offset: number): Promise<PartitionSnapshot | undefined> => offsets.filter((o) => o <= offset).map((o) => run.before[o]!).at(-1),
});

function sources(overrides: Partial<ExplanationSources> = {}): ExplanationSources {
  return { ledger: run.db.finder, snapshots: keptAt([10, 30]), log: memoryLog(run.records), partitions: () => PARTITIONS, idWindowMs: WINDOW_MS, ...overrides };
}

async function app(t: Parameters<typeof build>[0], explanations = new Explanations(sources())) {
  return (await build(t, { explanations })).app;
}

t.test("a decision explained: the outcome answered, the rule, the inputs, the ledger's document again", async (t) => {
  const server = await app(t);
  const deposit = await server.inject({ method: 'GET', url: '/v1/transactions/d2/explanation' });
  t.equal(deposit.statusCode, 200);
  t.match(deposit.json(), {
    id: 'd2',
    accountId: 'a',
    partition: PARTITION,
    offset: offsetOf('deposit d2'),
    record: 'deposit',
    rule: 'deposit',
    matchesLedger: true,
    account: { exists: true, balance: -30, reserved: 0, available: -30, overdraftLimit: 0, status: 'open', openHolds: 0 },
    clock: { source: 'receivedAt' },
    recorded: { status: 'applied', balanceAfter: 170 },
    replay: { from: 'log-start', startOffset: 0, records: offsetOf('deposit d2') + 1 },
  });
  t.strictSame(deposit.json().outcome, v1Body(run.outcomes[offsetOf('deposit d2')]!), 'the outcome as GET /v1/transactions/:id answers it');

  const denied = (await server.inject({ method: 'GET', url: '/v1/accounts/a/transactions/r2/explanation' })).json();
  t.match(denied, { rule: 'request-insufficient-funds', outcome: { status: 'denied', reason: 'insufficient_funds', amount: 60 }, account: { available: 40 }, holdLimit: 5 });
  t.ok(denied.account.available < denied.outcome.amount, 'available below the amount');

  const late = (await server.inject({ method: 'GET', url: '/v1/transactions/v1/explanation' })).json();
  t.match(late, { rule: 'reversal-applied', replay: { from: 'snapshot', startOffset: 10 }, original: { id: 'd2', status: 'applied', amount: 200 }, matchesLedger: true }, 'from the newest snapshot kept before it');
});

t.test('a repeat, found by its offset, answers its first outcome and writes nothing', async (t) => {
  const server = await app(t);
  const offset = offsetOf('repeat');
  const res = await server.inject({ method: 'GET', url: `/v1/accounts/a/transactions/d1/explanation?offset=${offset}` });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { rule: 'repeat', offset, outcome: { status: 'applied', replayed: true, balance: 100 }, remembered: { id: 'd1', amount: 100 }, matchesLedger: true });
  t.notOk('recorded' in res.json(), 'the ledger holds nothing at its offset');
  const byId = (await server.inject({ method: 'GET', url: '/v1/accounts/a/transactions/d1/explanation' })).json();
  t.match(byId, { offset: 0, rule: 'deposit' }, 'without an offset: the decision the ledger holds');
  const other = await server.inject({ method: 'GET', url: `/v1/accounts/a/transactions/d1/explanation?offset=${offsetOf('deposit d2')}` });
  t.equal(other.statusCode, 404, 'the offset of another transaction');
  t.equal((await server.inject({ method: 'GET', url: '/v1/accounts/a/transactions/d1/explanation?offset=-1' })).statusCode, 400);
});

t.test('a lapse is explained by its id', async (t) => {
  const server = await app(t);
  const res = await server.inject({ method: 'GET', url: '/v1/transactions/r6~expired/explanation' });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { rule: 'hold-lapsed', record: 'tick', outcome: { id: 'r6~expired', type: 'expire', amount: 25 }, holds: [{ id: 'r6', amount: 25 }], matchesLedger: true });
});

t.test('unknown ids, accounts not allowed, history gone', async (t) => {
  const server = await app(t);
  const unknown = await server.inject({ method: 'GET', url: '/v1/transactions/nothing/explanation' });
  t.equal(unknown.statusCode, 404);
  t.match(unknown.headers['content-type'], PROBLEM);
  const hidden = new Explanations(sources());
  await t.rejects(hidden.explain({ id: 'd2' }, (accountId) => accountId !== 'a'), { code: 'TELLER_ERR_TRANSACTION_NOT_FOUND' }, 'a key limited to other accounts learns nothing');

  const gone = await app(t, new Explanations(sources({ log: memoryLog(run.records, 5) })));
  const early = await gone.inject({ method: 'GET', url: '/v1/transactions/r1/explanation' });
  t.equal(early.statusCode, 409, 'no snapshot at or before offset 1, and the log starts at 5');
  t.match(early.json(), { type: 'urn:teller:problem:history-gone', partition: PARTITION, offset: 1, missing: 0 });
  t.equal((await gone.inject({ method: 'GET', url: '/v1/transactions/v1/explanation' })).statusCode, 200, 'a decision after a snapshot the log still holds');
});

t.test('one replay at a time: past the queue or the deadline, 503 with Retry-After', async (t) => {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  const explanations = new Explanations(sources({ log: memoryLog(run.records, 0, hold) }), { queueLimit: 1, deadlineMs: 300 });
  const server = await app(t, explanations);
  const first = server.inject({ method: 'GET', url: '/v1/transactions/d2/explanation' });
  const second = server.inject({ method: 'GET', url: '/v1/transactions/d1/explanation' });
  const third = await server.inject({ method: 'GET', url: '/v1/transactions/r1/explanation' });
  t.equal(third.statusCode, 503, 'the queue is full');
  t.equal(third.headers['retry-after'], '1');
  t.match(third.json(), { type: 'urn:teller:problem:explanations-busy', retryAfter: 1 });
  const [a, b] = await Promise.all([first, second]);
  t.equal(a.statusCode, 503, 'the replay ran past its deadline');
  t.equal(b.statusCode, 503, 'the one waiting behind it waited past its own');
  release();
  t.equal((await server.inject({ method: 'GET', url: '/v1/transactions/d2/explanation' })).statusCode, 200, 'and the next one runs');
});

t.test('the OpenAPI document holds both routes, and is valid OpenAPI 3', async (t) => {
  const server = await app(t);
  const doc = (await server.inject({ method: 'GET', url: '/openapi.json' })).json();
  t.ok(doc.paths['/v1/transactions/{id}/explanation']?.get);
  t.ok(doc.paths['/v1/accounts/{accountId}/transactions/{id}/explanation']?.get);
  await t.resolves(SwaggerParser.validate(doc), 'swagger-parser validates it');
});

// The history reads through the whole HTTP app (test/helpers/in-memory-app.ts)
// over an in-memory ledger: an account as of a time and at a cut, statements
// filtered and paged by their links, and what each refuses, as a client sees
// it: status, problem+json, body.
import SwaggerParser from '@apidevtools/swagger-parser';
import t, { type Test } from 'tap';
import { AccountHistory } from '../../api/account-history.js';
import { ApiKeyAuth, parseApiKeys } from '../../api/auth.js';
import { CommittedOffsets } from '../../api/committed-offsets.js';
import { Cuts } from '../../api/cuts.js';
import { LedgerReads } from '../../api/ledger-reads.js';
import { Statements } from '../../api/statement.js';
import type { CutDoc } from '../../common/cuts.js';
import type { LedgerDoc } from '../../common/types.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { build, PROBLEM } from '../helpers/in-memory-app.js';
import { MemoryCollection } from '../helpers/memory-collection.js';

const T0 = Date.UTC(2024, 0, 1, 12);
const iso = (ms: number) => new Date(ms).toISOString();

/** An entry of `acc` in partition 0 at `offset`, decided at T0 + `offset` seconds. */
function entry(offset: number, type: LedgerDoc['type'], status: LedgerDoc['status'], balance: number, reserved = 0): LedgerDoc {
  return { _id: `0:${offset}`, id: `t${offset}`, accountId: 'acc', type, amount: 10, status, balanceAfter: balance, reservedAfter: reserved, partition: 0, offset, receivedAt: T0 + offset * 1000 - 5, decidedAt: T0 + offset * 1000 };
}

const LEDGER = [
  entry(1, 'deposit', 'applied', 100),
  entry(2, 'withdraw_request', 'approved', 100, 30),
  entry(3, 'withdraw_request', 'denied', 100, 30),
  { ...entry(4, 'account_settings', 'applied', 100, 30), amount: 0, overdraftLimit: 20 },
  entry(5, 'withdraw', 'applied', 70, 0),
  entry(6, 'deposit', 'applied', 80, 0),
  entry(7, 'withdraw', 'denied', 80, 0),
];

async function app(t: Test, options: { committed?: Record<number, string>; auth?: ApiKeyAuth } = {}) {
  const ledger = new MemoryCollection<LedgerDoc>(LEDGER);
  const reads = new LedgerReads(ledger as never);
  const history = new AccountHistory(reads);
  const committed = options.committed ?? { 0: '6', 1: '0' };
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchOffsets: async () => [{ topic: 'teller.transactions', partitions: Object.entries(committed).map(([p, offset]) => ({ partition: Number(p), offset, metadata: null })) }],
  };
  const source = { topic: 'teller.transactions', groupId: 'teller-ledger' };
  const cuts = new Cuts({ store: new MemoryCollection<CutDoc>() as never, offsets: new CommittedOffsets(admin as never, source), history, source });
  const built = await build(t, { statements: new Statements(reads), history, cuts, ...(options.auth ? { auth: options.auth } : {}) });
  built.accounts.set('acc', { accountId: 'acc', balance: 80, reserved: 0, updatedAt: T0 + 7000, overdraftLimit: 20 });
  return { ...built, ledger };
}

t.test('as of a time: the state right after the last entry decided by then, from the ledger', async (t) => {
  const { app: server } = await app(t);
  const get = async (asOf: string) => server.inject({ method: 'GET', url: `/v1/accounts/acc?asOf=${encodeURIComponent(asOf)}` });

  const held = await get(iso(T0 + 2500));
  t.equal(held.statusCode, 200);
  t.strictSame(held.json(), {
    accountId: 'acc',
    balance: 100,
    reserved: 30,
    available: 70,
    overdraftLimit: 0,
    status: 'open',
    hadHistory: true,
    lastEntry: { transactionId: 't2', type: 'withdraw_request', status: 'approved', partition: 0, offset: 2, decidedAt: iso(T0 + 2000) },
    asOf: iso(T0 + 2500),
  });
  const exactly = (await get(iso(T0 + 4000))).json();
  t.match(exactly, { balance: 100, reserved: 30, available: 90, overdraftLimit: 20, lastEntry: { offset: 4 } }, 'an entry decided at asOf counts, the overdraft limit in force then');
  t.match((await get('2024-01-01T13:00:05.999+01:00')).json(), { balance: 70, lastEntry: { offset: 5 }, asOf: iso(T0 + 5999) }, 'any offset; echoed in UTC');
  t.match((await get(iso(T0 + 3_600_000))).json(), { balance: 80, lastEntry: { transactionId: 't7', status: 'denied' } }, 'a refusal is the last entry, changing nothing');
  t.strictSame((await get(iso(T0))).json(), { accountId: 'acc', balance: 0, reserved: 0, available: 0, overdraftLimit: 0, status: 'open', hadHistory: false, asOf: iso(T0) }, 'before its first entry');

  const live = await server.inject({ method: 'GET', url: '/v1/accounts/acc' });
  t.strictSame(live.json(), { accountId: 'acc', balance: 80, reserved: 0, available: 100, overdraftLimit: 20, status: 'open', updatedAt: iso(T0 + 7000) }, 'without asOf, the read model as before');
});

t.test('as of a time: what is refused', async (t) => {
  const { app: server } = await app(t);
  const get = async (query: string) => server.inject({ method: 'GET', url: `/v1/accounts/acc?${query}` });
  // A bare + in a query string reads as a space: the offset must be written %2B.
  for (const bad of ['asOf=yesterday', 'asOf=2024-01-01', 'asOf=2024-02-30T00:00:00Z', 'asOf=2024-01-01T00:00:00%2B0100', 'asOf=2024-01-01T00:00:00+01:00', 'asof=2024-01-01T00:00:00Z']) {
    const r = await get(bad);
    t.equal(r.statusCode, 400, bad);
    t.match(r.headers['content-type'], PROBLEM);
    t.match(r.json(), { type: 'urn:teller:problem:validation-error' }, bad);
  }
  const future = await get(`asOf=${encodeURIComponent(iso(Date.now() + 60_000))}`);
  t.equal(future.statusCode, 400);
  t.match(future.json(), { type: 'urn:teller:problem:as-of-in-the-future', now: String });
  const unknown = await server.inject({ method: 'GET', url: `/v1/accounts/nobody?asOf=${iso(T0)}` });
  t.equal(unknown.statusCode, 404);
  t.match(unknown.json(), { type: 'urn:teller:problem:account-not-found' });
});

t.test('statements filtered: pages by their links hold exactly the entries kept; bad filters are 400', async (t) => {
  const { app: server } = await app(t);
  const query = `type=withdraw_request,withdraw&status=denied,approved&from=${encodeURIComponent(iso(T0 + 2000))}&to=${encodeURIComponent(iso(T0 + 7000))}`;
  let url: string | undefined = `/v1/accounts/acc/transactions?limit=1&${query}`;
  const seen: string[] = [];
  while (url) {
    const r = await server.inject({ method: 'GET', url });
    t.equal(r.statusCode, 200, url);
    const body = r.json() as { data: { id: string; decidedAt: string }[]; hasMore: boolean; nextCursor?: string };
    seen.push(...body.data.map((e) => e.id));
    t.ok(body.data.every((e) => typeof e.decidedAt === 'string'), 'each entry says when it was decided');
    const link = /^<([^>]+)>; rel="next"$/.exec(String(r.headers.link ?? ''));
    t.equal(Boolean(link), body.hasMore, 'a Link exactly when there is more');
    if (link) t.ok(['type=', 'status=', 'from=', 'to='].every((p) => link[1]!.includes(p)), 'the link keeps every filter');
    url = link?.[1];
  }
  t.strictSame(seen, ['t3', 't2'], 'the refused and the approved requests; the applied withdrawal and the refusal at `to` left out');

  for (const bad of ['type=deposit,nothing', 'type=', 'status=expired', 'from=2024-01-01', 'to=soon', 'type=deposit&type=withdraw']) {
    const r = await server.inject({ method: 'GET', url: `/v1/accounts/acc/transactions?${bad}` });
    t.equal(r.statusCode, 400, bad);
    t.match(r.json(), { type: 'urn:teller:problem:validation-error' }, bad);
  }
  const swapped = await server.inject({ method: 'GET', url: `/v1/accounts/acc/transactions?from=${iso(T0 + 5000)}&to=${iso(T0 + 5000)}` });
  t.equal(swapped.statusCode, 400);
  t.match(swapped.json(), { type: 'urn:teller:problem:invalid-time-range' });
});

t.test('cuts: taken (201), read back, and an account at one answers the same after later writes', async (t) => {
  const { app: server, ledger } = await app(t);
  const taken = await server.inject({ method: 'POST', url: '/v1/cuts' });
  t.equal(taken.statusCode, 201);
  const cut = taken.json() as { cut: string; createdAt: string; offsets: Record<string, number> };
  t.strictSame(cut.offsets, { 0: 6, 1: 0 });
  t.equal(taken.headers.location, `/v1/cuts/${cut.cut}`);
  t.strictSame((await server.inject({ method: 'GET', url: `/v1/cuts/${cut.cut}` })).json(), cut);
  t.equal((await server.inject({ method: 'POST', url: '/v1/cuts', payload: {} })).statusCode, 201, 'an empty object is no body too');
  t.equal((await server.inject({ method: 'POST', url: '/v1/cuts', payload: { at: 'now' } })).statusCode, 400, 'a cut takes no options');
  const nullBody = await server.inject({ method: 'POST', url: '/v1/cuts', headers: { 'content-type': 'application/json' }, payload: 'null' });
  t.equal(nullBody.statusCode, 400, 'a body of JSON null is a body, and not an object: refused, no cut taken');

  // Below offset 6 of partition 0: the applied withdrawal at 5 is the last entry; `acc` lives in partition 0 of 2.
  const atCut = async () => (await server.inject({ method: 'GET', url: `/v1/cuts/${cut.cut}/accounts/acc` })).json();
  const before = await atCut();
  t.strictSame(before, {
    accountId: 'acc',
    balance: 70,
    reserved: 0,
    available: 90,
    overdraftLimit: 20,
    status: 'open',
    hadHistory: true,
    lastEntry: { transactionId: 't5', type: 'withdraw', status: 'applied', partition: 0, offset: 5, decidedAt: iso(T0 + 5000) },
    cut: cut.cut,
    partition: 0,
    cutOffset: 6,
  });
  ledger.docs.push(entry(8, 'deposit', 'applied', 1_000));
  t.strictSame(await atCut(), before, 'the same after a later write');

  const unknown = await server.inject({ method: 'GET', url: '/v1/cuts/cut_20240101T000000000Z_000000000000/accounts/acc' });
  t.equal(unknown.statusCode, 404);
  t.match(unknown.json(), { type: 'urn:teller:problem:cut-not-found' });
  t.equal((await server.inject({ method: 'GET', url: '/v1/cuts/nonsense' })).statusCode, 404);
});

t.test('cuts with API keys: a key limited to some accounts reads its accounts at a cut, and takes or reads no cut', async (t) => {
  const everything = mintKey();
  const limited = mintKey();
  const { app: server } = await app(t, { auth: new ApiKeyAuth(parseApiKeys(`${apiKeyEntry(everything)};${apiKeyEntry(limited, ['acc'])}`)) });
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const refused = await server.inject({ method: 'POST', url: '/v1/cuts', headers: as(limited) });
  t.equal(refused.statusCode, 403);
  t.match(refused.json(), { type: 'urn:teller:problem:key-limited' });
  const cut = (await server.inject({ method: 'POST', url: '/v1/cuts', headers: as(everything) })).json() as { cut: string };
  t.equal((await server.inject({ method: 'GET', url: `/v1/cuts/${cut.cut}`, headers: as(limited) })).statusCode, 403);
  t.equal((await server.inject({ method: 'GET', url: `/v1/cuts/${cut.cut}/accounts/acc`, headers: as(limited) })).statusCode, 200);
  const other = await server.inject({ method: 'GET', url: `/v1/cuts/${cut.cut}/accounts/someone-else`, headers: as(limited) });
  t.equal(other.statusCode, 403);
  t.match(other.json(), { type: 'urn:teller:problem:forbidden' });
});

t.test('cuts: Kafka without an answer is 503 offsets-unavailable with Retry-After', async (t) => {
  const { app: server } = await app(t, { committed: {} });
  const r = await server.inject({ method: 'POST', url: '/v1/cuts' });
  t.equal(r.statusCode, 503);
  t.equal(r.headers['retry-after'], '1');
  t.match(r.json(), { type: 'urn:teller:problem:offsets-unavailable', retryAfter: 1 });
});

t.test('the OpenAPI document: still valid, with the cuts, asOf and the statement filters in it', async (t) => {
  const { app: server } = await app(t);
  const document = (await server.inject({ method: 'GET', url: '/openapi.json' })).json();
  await t.resolves(SwaggerParser.validate(structuredClone(document)), 'valid OpenAPI 3');
  t.ok(document.paths['/v1/cuts'].post.responses['201'], 'POST /v1/cuts answers 201');
  t.equal(document.paths['/v1/cuts'].post.requestBody?.required ?? false, false, 'with no body needed');
  t.ok(document.paths['/v1/cuts/{cut}'].get);
  t.ok(document.paths['/v1/cuts/{cut}/accounts/{accountId}'].get);
  const names = (path: string) => document.paths[path].get.parameters.map((p: { name: string }) => p.name);
  t.ok(names('/v1/accounts/{accountId}').includes('asOf'));
  t.ok(['reference', 'type', 'status', 'from', 'to'].every((n) => names('/v1/accounts/{accountId}/transactions').includes(n)));
});

t.test("a statement's limit is decimal digits: text JavaScript would read as a number is refused", async (t) => {
  const { app: server } = await app(t);
  t.equal((await server.inject({ method: 'GET', url: '/v1/accounts/acc/transactions?limit=5' })).statusCode, 200);
  for (const limit of ['%205', '5%20', '%2B5', '05', '1e1', '0x10', '1.0', '']) {
    const answer = await server.inject({ method: 'GET', url: `/v1/accounts/acc/transactions?limit=${limit}` });
    t.equal(answer.statusCode, 400, `limit=${decodeURIComponent(limit)}`);
    t.match(answer.json(), { type: 'urn:teller:problem:validation-error', errors: [{ path: 'querystring/limit' }] });
  }
});

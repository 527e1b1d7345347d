// The api's edges, through the whole HTTP app (api/app.ts buildApp) with
// in-memory collaborators: how a body is read (api/json-body.ts), a cancel
// without a body, the id registry after the producer fails, the statement
// queue's bound, and Retry-After on the 503s that say when to retry.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { buildApp } from '../../api/app.js';
import { MAX_PARAM_LENGTH } from '../../api/problem.js';
import { lookupIdSchema } from '../../api/schemas.js';
import { Statements, type LedgerCollection } from '../../api/statement.js';
import { TransactionSubmitter, type SubmitDeps } from '../../api/submit.js';
import { createError, TELLER_ERR_PRODUCER_UNAVAILABLE, TELLER_ERR_PRODUCER_UNCONFIRMED } from '../../common/errors.js';
import { isTransaction } from '../../common/message.js';
import { keys } from '../../common/read-model.js';
import type { LogMessage, TxMessage } from '../../common/types.js';
import { PROBLEM, SUBMIT_SETTINGS } from '../helpers/in-memory-app.js';

const JSON_TYPE = 'application/json';

/** The batching producer: it takes every message, or fails as `failure` says. */
class InMemoryBatcher {
  readonly sent: TxMessage[] = [];
  failure: 'refused unsent' | 'sent, unconfirmed' | undefined;

  async send(msg: LogMessage): Promise<void> {
    if (this.failure === 'refused unsent') throw createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'queue_full' });
    if (this.failure === 'sent, unconfirmed') throw createError(TELLER_ERR_PRODUCER_UNCONFIRMED, { reason: 'send timed out' });
    if (isTransaction(msg)) this.sent.push(msg);
  }
}

/** Redis as the id registry uses it: SET NX GET, and the release script's compare-and-delete (api/submit.ts). */
class InMemoryRegistry {
  readonly values = new Map<string, string>();

  async set(key: string, value: string): Promise<string | null> {
    const previous = this.values.get(key) ?? null;
    if (previous === null) this.values.set(key, value);
    return previous;
  }

  async eval(_script: string, _keyCount: number, registryKey: string, outcomeKey: string, accountId: string): Promise<number> {
    if (this.values.get(registryKey) !== accountId || this.values.has(outcomeKey)) return 0;
    this.values.delete(registryKey);
    return 1;
  }
}

/** A ledger whose every query takes `delayMs` and finds nothing. */
function slowLedger(delayMs: number): LedgerCollection {
  const find = () => ({ toArray: () => new Promise((resolve) => setTimeout(() => resolve([]), delayMs)) });
  return { find } as unknown as LedgerCollection;
}

async function build(t: Test) {
  const batcher = new InMemoryBatcher();
  const registry = new InMemoryRegistry();
  const silent = pino({ level: 'silent' });
  const submitter = new TransactionSubmitter({
    batcher,
    // Not subscribed: a call is answered 202 once the producer took it, without waiting for a decision.
    waiter: {
      listening: false,
      wait: () => {
        throw new Error('no call waits while the replica is not subscribed');
      },
    },
    redis: registry as unknown as SubmitDeps['redis'],
    log: silent,
    ...SUBMIT_SETTINGS,
    holdLimit: 1000,
  });
  // The transaction by id reads the registry as the real read model does: registered, no outcome, pending.
  const readModel = {
    account: async (accountId: string) => ({ accountId, balance: 1, reserved: 0, updatedAt: 0 }),
    transaction: async (id: string) => {
      const accountId = registry.values.get(keys.txId(id));
      return accountId === undefined ? null : { accountId };
    },
    accountTransaction: async (accountId: string, id: string) => (registry.values.get(keys.txId(id)) === accountId ? { accountId } : null),
  };
  const statements = new Statements(slowLedger(100), { queueLimit: 0, deadlineMs: 5_000 });
  const probe = { current: { ready: true, checks: {} } };
  const history = { asOf: async () => null };
  const cuts = { take: async () => Promise.reject(new Error('no cuts here')), get: async () => Promise.reject(new Error('no cuts here')), account: async () => Promise.reject(new Error('no cuts here')) };
  const app = await buildApp({ log: silent, bodyLimit: 16 * 1024, submitter, readModel, probe, statements, history, cuts });
  t.teardown(() => app.close());
  return { app, batcher, registry };
}

const deposit = (accountId: string) => `/v1/accounts/${accountId}/deposits`;
const cancel = (accountId: string, requestId: string) => `/v1/accounts/${accountId}/withdrawal-requests/${requestId}/cancel`;

t.test('ambiguous JSON is refused, on v1 and the compatibility route, and nothing is sent', async (t) => {
  const { app, batcher } = await build(t);
  const cases: [what: string, url: string, body: string | Buffer, contentType: string, status: number, fault?: string][] = [
    ['a fraction below the float precision', deposit('a'), '{"id":"d1","amount":1.0000000000000001}', JSON_TYPE, 400, 'non_integer_number'],
    ['a key twice (v1)', deposit('a'), '{"id":"d2","amount":1,"amount":100000}', JSON_TYPE, 400, 'duplicate_key'],
    ['a key twice (compatibility)', '/transaction', '{"id":"c1","type":"deposit","amount":1,"accountId":"a","amount":100000}', JSON_TYPE, 400, 'duplicate_key'],
    ['an integer past 2^53 - 1', deposit('a'), '{"id":"d3","amount":9007199254740993}', JSON_TYPE, 400, 'unsafe_integer'],
    ['an exponent', '/transaction', '{"id":"c2","type":"deposit","amount":1e2,"accountId":"a"}', JSON_TYPE, 400, 'non_integer_number'],
    ['a prototype key', deposit('a'), '{"id":"d4","amount":1,"__proto__":{"amount":5}}', JSON_TYPE, 400, 'forbidden_key'],
    ['bytes that are not UTF-8', deposit('a'), Buffer.from([...Buffer.from('{"id":"d5'), 0xff, ...Buffer.from('","amount":1}')]), JSON_TYPE, 400, 'not_utf8'],
    ['UTF-16', deposit('a'), Buffer.from('{"id":"d6","amount":1}', 'utf16le'), `${JSON_TYPE}; charset=utf-16`, 415],
    ['ISO-8859-1', '/transaction', '{"id":"c3","type":"deposit","amount":1,"accountId":"a"}', `${JSON_TYPE};charset="ISO-8859-1"`, 415],
  ];
  for (const [what, url, payload, contentType, status, fault] of cases) {
    const r = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });
    t.equal(r.statusCode, status, `${what}: ${status}`);
    t.match(r.headers['content-type'], PROBLEM, `${what}: problem+json`);
    if (status === 415) {
      t.match(r.json(), { type: 'urn:teller:problem:unsupported-charset', title: 'Unsupported Media Type', detail: /charset=(utf-16|iso-8859-1)/ }, what);
    } else {
      t.match(r.json(), { type: 'urn:teller:problem:ambiguous-json', title: 'Bad Request', detail: /^the body is ambiguous JSON: /, fault }, what);
    }
  }
  const deep = await app.inject({ method: 'POST', url: '/transaction', payload: '['.repeat(8000) + ']'.repeat(8000), headers: { 'content-type': JSON_TYPE } });
  t.equal(deep.statusCode, 400, 'a body nested too deep to read: 400, not a stack overflow');
  t.match(deep.json(), { type: 'urn:teller:problem:body-too-deep', detail: /deeper than \d+ levels/ });
  const twice = await app.inject({ method: 'POST', url: deposit('a'), payload: '{"id":"d2","amount":1,"amount":100000}', headers: { 'content-type': JSON_TYPE } });
  t.match(twice.json(), { detail: 'the body is ambiguous JSON: the key "amount" appears twice in one object at position 22', position: 22 }, 'which fault, and where');
  t.same(batcher.sent, [], 'nothing reached the log');
});

t.test('a body with nothing ambiguous is read as before', async (t) => {
  const { app, batcher } = await build(t);
  const bodies: [string, string | Buffer][] = [
    [JSON_TYPE, '{"id":"u1","amount":5}'],
    [`${JSON_TYPE}; charset=utf-8`, '{"id":"u2","amount":5}'],
    [`${JSON_TYPE}; charset="UTF-8"`, '{"id":"u3","amount":5}'],
    [JSON_TYPE, Buffer.from('\ufeff{"id":"u4","amount":5}')],
  ];
  for (const [contentType, payload] of bodies) {
    const r = await app.inject({ method: 'POST', url: deposit('a'), payload, headers: { 'content-type': contentType } });
    t.equal(r.statusCode, 202, `${contentType} ${payload.toString()}: taken`);
  }
  t.same(batcher.sent.map((m) => [m.id, m.amount]), [['u1', 5], ['u2', 5], ['u3', 5], ['u4', 5]], 'a byte order mark is dropped, as before');
});

t.test("an empty or malformed body, another media type, or one too large: Fastify's answers, as before", async (t) => {
  const { app } = await build(t);
  const send = (payload: string, contentType: string) => app.inject({ method: 'POST', url: deposit('a'), payload, headers: { 'content-type': contentType } });
  const empty = await send('', JSON_TYPE);
  t.equal(empty.statusCode, 400);
  t.match(empty.json(), { type: 'urn:teller:problem:validation-error', detail: "Body cannot be empty when content-type is set to 'application/json'" });
  const broken = await send('{"id":"x",', JSON_TYPE);
  t.equal(broken.statusCode, 400);
  t.match(broken.json(), { type: 'urn:teller:problem:validation-error', detail: "Body is not valid JSON but content-type is set to 'application/json'" });
  const patch = await send('{"id":"x","amount":1}', 'application/merge-patch+json');
  t.equal(patch.statusCode, 415, 'application/*+json is not taken');
  const large = await send(JSON.stringify({ id: 'x', amount: 1, pad: 'p'.repeat(17 * 1024) }), JSON_TYPE);
  t.equal(large.statusCode, 413, "the app's body limit still applies");
  for (const r of [empty, broken, patch, large]) t.match(r.headers['content-type'], PROBLEM);
});

t.test('a cancel takes its id from Idempotency-Key without a body; the other writes still need one', async (t) => {
  const { app, batcher } = await build(t);
  const url = cancel('a', 'r1');
  const noBody = await app.inject({ method: 'POST', url, headers: { 'idempotency-key': 'k1' } });
  t.equal(noBody.statusCode, 202, 'no body, no Content-Type');
  const emptyJson = await app.inject({ method: 'POST', url, payload: '', headers: { 'idempotency-key': 'k2', 'content-type': JSON_TYPE } });
  t.equal(emptyJson.statusCode, 202, 'Content-Type application/json and an empty body');
  const emptyObject = await app.inject({ method: 'POST', url, payload: {}, headers: { 'idempotency-key': 'k3' } });
  t.equal(emptyObject.statusCode, 202, 'an empty object');
  t.match(batcher.sent, [
    { id: 'k1', type: 'cancel', accountId: 'a', requestId: 'r1' },
    { id: 'k2', type: 'cancel', accountId: 'a', requestId: 'r1' },
    { id: 'k3', type: 'cancel', accountId: 'a', requestId: 'r1' },
  ]);
  t.match(noBody.json(), { id: 'k1', type: 'cancel', status: 'pending' });

  const neither = await app.inject({ method: 'POST', url });
  t.equal(neither.statusCode, 400);
  t.match(neither.json(), { type: 'urn:teller:problem:id-required' }, 'no body and no header: id-required');
  const notAnObject = await app.inject({ method: 'POST', url, payload: '[]', headers: { 'idempotency-key': 'k4', 'content-type': JSON_TYPE } });
  t.equal(notAnObject.statusCode, 400, 'a body that is not an object is still refused');

  const depositWithoutBody = await app.inject({ method: 'POST', url: deposit('a'), headers: { 'idempotency-key': 'k5' } });
  t.equal(depositWithoutBody.statusCode, 400, 'a deposit needs its amount, so a body');
  t.match(depositWithoutBody.json(), { type: 'urn:teller:problem:validation-error' });
  t.equal(batcher.sent.length, 3, 'nothing else reached the log');

  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  t.equal(document.paths['/v1/accounts/{accountId}/withdrawal-requests/{requestId}/cancel'].post.requestBody.required, false, 'the document says the body is optional');
  t.equal(document.paths['/v1/accounts/{accountId}/deposits'].post.requestBody.required, true, 'and required elsewhere');
  t.notMatch(JSON.stringify(document), /x-teller/, 'the mark that says so is gone');
});

t.test('an id the producer refused unsent is released; one sent and unconfirmed stays registered', async (t) => {
  const { app, batcher, registry } = await build(t);
  const post = (accountId: string, id: string) => app.inject({ method: 'POST', url: deposit(accountId), payload: { id, amount: 5 } });
  const status = async (id: string) => (await app.inject({ method: 'GET', url: `/v1/transactions/${id}` })).statusCode;

  batcher.failure = 'refused unsent';
  const refused = await post('acct-1', 'x1');
  t.equal(refused.statusCode, 503);
  t.equal(refused.headers['retry-after'], '1', 'Retry-After, as the body says');
  t.match(refused.json(), { type: 'urn:teller:problem:unavailable', retryAfter: 1 });
  t.notOk(registry.values.has(keys.txId('x1')), 'the registration is undone');
  t.equal(await status('x1'), 404, 'the id does not read pending');

  batcher.failure = 'sent, unconfirmed';
  const unconfirmed = await post('acct-1', 'x2');
  t.equal(unconfirmed.statusCode, 503);
  t.equal(unconfirmed.headers['retry-after'], '1');
  t.match(unconfirmed.json(), { type: 'urn:teller:problem:unconfirmed', retryAfter: 1, detail: /may still apply it/ });
  t.equal(registry.values.get(keys.txId('x2')), 'acct-1', 'Kafka may still write it: the id stays registered');
  t.equal(await status('x2'), 200, 'and reads pending');

  batcher.failure = undefined;
  t.equal((await post('acct-1', 'x3')).statusCode, 202);
  batcher.failure = 'refused unsent';
  t.equal((await post('acct-1', 'x3')).statusCode, 503, 'a repeat of a taken call, refused');
  t.equal(registry.values.get(keys.txId('x3')), 'acct-1', 'keeps the registration it did not make');

  batcher.failure = undefined;
  t.equal((await post('acct-2', 'x1')).statusCode, 202, 'the released id is free on another account');
  t.equal((await post('acct-2', 'x2')).statusCode, 409, 'the unconfirmed one is not');
});

t.test('a statement past the queue: 503 statements-busy with Retry-After, at once', async (t) => {
  const { app } = await build(t);
  const read = () => app.inject({ method: 'GET', url: '/v1/accounts/a/transactions' });
  const [first, second] = await Promise.all([read(), read()]);
  t.equal(first!.statusCode, 200, 'one reads');
  t.equal(second!.statusCode, 503, 'the queue holds none here: the other is refused');
  t.equal(second!.headers['retry-after'], '1');
  t.match(second!.headers['content-type'], PROBLEM);
  t.match(second!.json(), { type: 'urn:teller:problem:statements-busy', status: 503, retryAfter: 1 });
});

t.test('a path parameter past the routing limit is a validation error, like any id over its length', async (t) => {
  const { app, batcher } = await build(t);
  // The longest lookup id, every character percent-encoded, still routes: it is looked up, and not found.
  const longestEncoded = '%41'.repeat(lookupIdSchema.maxLength);
  const found = await app.inject({ method: 'GET', url: `/v1/transactions/${longestEncoded}` });
  t.equal(found.statusCode, 404, 'the longest id, every character encoded: looked up');
  const cases: [what: string, method: 'GET' | 'POST', url: string][] = [
    ['a deposit to an account named with 800 characters', 'POST', deposit('a'.repeat(800))],
    // Routing measures a parameter decoded: 800 euro signs are 800 characters, 7,200 as sent.
    ['an id of 800 euro signs, percent-encoded', 'GET', `/v1/transactions/${'%E2%82%AC'.repeat(800)}`],
  ];
  for (const [what, method, url] of cases) {
    const r = await app.inject({ method, url, payload: method === 'POST' ? { id: 'p1', amount: 1 } : undefined });
    t.equal(r.statusCode, 400, `${what}: 400, not 414`);
    t.match(r.headers['content-type'], PROBLEM, `${what}: problem+json`);
    const message = `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`;
    t.match(r.json(), { type: 'urn:teller:problem:validation-error', errors: [{ path: 'params', message }] }, what);
    t.notOk(r.body.includes('aaaaaaaaaa') || r.body.includes('%E2%82%AC'), `${what}: the path is not echoed back`);
  }
  t.same(batcher.sent, [], 'nothing reached the log');
});

// The webhook routes (api/routes/v1/webhooks.ts) through the whole app with
// an in-memory store (test/helpers/in-memory-app.ts): registration and its id
// rules, validation (400 problems that store nothing), reads without secrets,
// deletion leaving the id spent, dead letters and their redelivery, the
// bound on endpoints, the store or Kafka down, and API keys limited to accounts.
import SwaggerParser from '@apidevtools/swagger-parser';
import t from 'tap';
import { ApiKeyAuth, parseApiKeys } from '../../api/auth.js';
import { signingKey } from '../../common/webhooks.js';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { build, DECIDED_AT, EVENTS_TOPIC_ENDS, PROBLEM } from '../helpers/in-memory-app.js';

const URL_OF = 'http://127.0.0.1:9/hooks';

t.test('a registration: 201 with Location, the secret, the start offsets; a repeat answers the same, another body 409', async (t) => {
  const { app, webhookStore } = await build(t);
  const body = { id: 'crm', url: URL_OF, eventTypes: ['withdrawal.applied', 'deposit.applied'], accountId: 'alice' };
  const first = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: body });
  t.equal(first.statusCode, 201);
  t.equal(first.headers.location, '/v1/webhooks/crm');
  const created = first.json();
  t.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'whsec_ and the base64 of 32 bytes');
  t.equal(signingKey(created.secret).length, 32);
  t.same(created, {
    id: 'crm',
    url: URL_OF,
    eventTypes: ['deposit.applied', 'withdrawal.applied'],
    accountId: 'alice',
    startOffsets: EVENTS_TOPIC_ENDS,
    createdAt: new Date(DECIDED_AT).toISOString(),
    secret: created.secret,
  });
  t.match(webhookStore.endpoints.get('crm'), { state: 'active', secret: created.secret, startOffsets: EVENTS_TOPIC_ENDS });

  const repeat = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { ...body, eventTypes: ['deposit.applied', 'withdrawal.applied'] } });
  t.equal(repeat.statusCode, 200, 'the same types in another order are the same body');
  t.equal(repeat.headers['idempotent-replayed'], 'true');
  t.same(repeat.json(), created, 'the endpoint as registered, its secret included');

  for (const other of [{ ...body, url: `${URL_OF}/2` }, { ...body, accountId: undefined }, { ...body, eventTypes: undefined }, { ...body, eventTypes: ['deposit.applied'] }]) {
    const conflict = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: other });
    t.equal(conflict.statusCode, 409, JSON.stringify(other));
    t.match(conflict.headers['content-type'], PROBLEM);
    t.match(conflict.json(), { type: 'urn:teller:problem:id-reused', status: 409, detail: 'webhook endpoint id crm was already registered with another body' });
  }
  t.equal(webhookStore.endpoints.get('crm')?.url, URL_OF, 'the endpoint is unchanged');
  t.equal(webhookStore.endpoints.size, 1);
});

t.test('bad input: 400 problems, nothing stored', async (t) => {
  const { app, webhookStore } = await build(t);
  const urls: [string, RegExp][] = [
    ['ftp://127.0.0.1/x', /scheme ftp; only http and https/],
    ['/relative/path', /not an absolute URL/],
    ['http://user:pass@127.0.0.1/x', /credentials/],
    ['http://127.0.0.1/x#part', /fragment/],
    ['javascript:alert(1)', /scheme javascript/],
  ];
  for (const [url, detail] of urls) {
    const r = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id: 'w1', url } });
    t.equal(r.statusCode, 400, url);
    t.match(r.headers['content-type'], PROBLEM);
    t.match(r.json(), { type: 'urn:teller:problem:invalid-webhook-url', status: 400, detail });
  }
  const bodies: [object, string][] = [
    [{ id: 'w1', url: URL_OF, eventTypes: ['deposit.nothing'] }, 'body/eventTypes/0'],
    [{ id: 'w1', url: URL_OF, eventTypes: [] }, 'body/eventTypes'],
    [{ id: 'w1', url: URL_OF, eventTypes: ['deposit.applied', 'deposit.applied'] }, 'body/eventTypes'],
    [{ id: 'w:1', url: URL_OF }, 'body/id'],
    [{ id: '..', url: URL_OF }, 'body/id'],
    [{ url: URL_OF }, 'body'],
    [{ id: 'w1', url: URL_OF, secret: 'whsec_mine' }, 'body'],
    [{ id: 'w1', url: URL_OF, accountId: 'no spaces' }, 'body/accountId'],
    [{ id: 'w1', url: `http://127.0.0.1/${'x'.repeat(2048)}` }, 'body/url'],
  ];
  for (const [payload, path] of bodies) {
    const r = await app.inject({ method: 'POST', url: '/v1/webhooks', payload });
    t.equal(r.statusCode, 400, JSON.stringify(payload).slice(0, 80));
    t.match(r.json(), { type: 'urn:teller:problem:validation-error', errors: [{ path }] });
  }
  t.equal(webhookStore.endpoints.size, 0, 'nothing was registered');
});

t.test('reads: the list and one endpoint, never a secret; an unknown id is 404', async (t) => {
  const { app } = await build(t);
  for (const id of ['b-all', 'a-alice']) {
    const payload = id === 'a-alice' ? { id, url: URL_OF, accountId: 'alice' } : { id, url: URL_OF };
    t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks', payload })).statusCode, 201);
  }
  const list = await app.inject({ method: 'GET', url: '/v1/webhooks' });
  t.equal(list.statusCode, 200);
  t.same(
    list.json().data.map((e: { id: string }) => e.id),
    ['a-alice', 'b-all'],
    'by id',
  );
  t.notMatch(list.body, /whsec_|secret/, 'no secret in the list');
  const one = await app.inject({ method: 'GET', url: '/v1/webhooks/b-all' });
  t.same(one.json(), { id: 'b-all', url: URL_OF, startOffsets: EVENTS_TOPIC_ENDS, createdAt: new Date(DECIDED_AT).toISOString() });
  const unknown = await app.inject({ method: 'GET', url: '/v1/webhooks/nobody' });
  t.equal(unknown.statusCode, 404);
  t.match(unknown.json(), { type: 'urn:teller:problem:webhook-not-found', detail: 'no webhook endpoint nobody' });
});

t.test('a delete: 204, then 404; its dead letters go; its id is never registered again', async (t) => {
  const { app, webhookStore } = await build(t);
  await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id: 'gone', url: URL_OF } });
  webhookStore.addDeadLetter('gone', { eventId: '0:5', accountId: 'alice', type: 'deposit.applied' }, DECIDED_AT);
  const deleted = await app.inject({ method: 'DELETE', url: '/v1/webhooks/gone' });
  t.equal(deleted.statusCode, 204);
  t.equal(deleted.body, '');
  t.match(webhookStore.endpoints.get('gone'), { state: 'deleted' }, 'a tombstone');
  t.equal(webhookStore.endpoints.get('gone')?.secret, undefined, 'without its secret');
  t.equal(webhookStore.letters.size, 0, 'its dead letters deleted');
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/webhooks/gone' })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/v1/webhooks/gone' })).statusCode, 404);
  t.same((await app.inject({ method: 'GET', url: '/v1/webhooks' })).json(), { data: [] });
  const again = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id: 'gone', url: URL_OF } });
  t.equal(again.statusCode, 409);
  t.match(again.json(), { type: 'urn:teller:problem:id-reused', detail: /since deleted/ });
});

t.test("dead letters: listed oldest first with the event as posted, then queued again (all, or those named)", async (t) => {
  const { app, webhookStore } = await build(t);
  await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id: 'flaky', url: URL_OF } });
  await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id: 'other', url: URL_OF } });
  webhookStore.addDeadLetter('flaky', { eventId: '1:9', accountId: 'bob', type: 'deposit.applied' }, DECIDED_AT + 1000);
  webhookStore.addDeadLetter('flaky', { eventId: '0:4', accountId: 'alice', type: 'withdrawal.applied' }, DECIDED_AT);
  webhookStore.addDeadLetter('flaky', { eventId: '2:1', accountId: 'carol', type: 'deposit.applied' }, DECIDED_AT + 2000);
  webhookStore.addDeadLetter('other', { eventId: '0:4', accountId: 'alice', type: 'withdrawal.applied' }, DECIDED_AT);

  const page = await app.inject({ method: 'GET', url: '/v1/webhooks/flaky/dead-letters?limit=2' });
  t.equal(page.statusCode, 200);
  t.equal(page.json().hasMore, true);
  t.same(page.json().data[0], {
    eventId: '0:4',
    accountId: 'alice',
    type: 'withdrawal.applied',
    event: { v: 1, eventId: '0:4', accountId: 'alice', type: 'withdrawal.applied' },
    attempts: 7,
    lastError: 'status 500',
    firstAttemptAt: new Date(DECIDED_AT).toISOString(),
    lastAttemptAt: new Date(DECIDED_AT + 60_000).toISOString(),
    state: 'dead',
  });
  t.same(page.json().data.map((l: { eventId: string }) => l.eventId), ['0:4', '1:9']);
  t.equal((await app.inject({ method: 'GET', url: '/v1/webhooks/flaky/dead-letters?limit=0' })).statusCode, 400);

  const named = await app.inject({ method: 'POST', url: '/v1/webhooks/flaky/redeliver', payload: { eventIds: ['1:9', '7:7'] } });
  t.equal(named.statusCode, 202);
  t.same(named.json(), { queued: 1 });
  t.equal(webhookStore.letters.get('flaky:1:9')?.state, 'redeliver');
  t.equal(webhookStore.letters.get('flaky:0:4')?.state, 'dead');
  const all = await app.inject({ method: 'POST', url: '/v1/webhooks/flaky/redeliver' });
  t.equal(all.statusCode, 202, 'no body: every dead letter');
  t.same(all.json(), { queued: 2 }, 'the two still dead');
  t.equal(webhookStore.letters.get('other:0:4')?.state, 'dead', "another endpoint's are not touched");
  t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks/flaky/redeliver', payload: { eventIds: ['not-an-event'] } })).statusCode, 400);
  // The longest body the document allows must fit the body limit, or a valid call would get 413.
  const longest = { eventIds: Array.from({ length: 50 }, (_, i) => `${i}:${'9'.repeat(300 - 2 - String(i).length)}`) };
  t.ok(Buffer.byteLength(JSON.stringify(longest)) <= 16 * 1024, 'fifty of the longest ids fit in 16 KiB');
  t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks/flaky/redeliver', payload: { eventIds: [...longest.eventIds, '1:1'] } })).statusCode, 400, 'more than fifty: refused by the schema');
  t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks/nobody/redeliver', payload: {} })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/v1/webhooks/nobody/dead-letters' })).statusCode, 404);
});

t.test('the bound on endpoints: 409 webhook-limit past it; a repeat is still answered', async (t) => {
  const { app } = await build(t, { maxWebhooks: 2 });
  for (const id of ['one', 'two']) t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id, url: URL_OF } })).statusCode, 201);
  const third = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id: 'three', url: URL_OF } });
  t.equal(third.statusCode, 409);
  t.match(third.json(), { type: 'urn:teller:problem:webhook-limit', maxEndpoints: 2 });
  t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id: 'two', url: URL_OF } })).statusCode, 200);
  await app.inject({ method: 'DELETE', url: '/v1/webhooks/one' });
  t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id: 'three', url: URL_OF } })).statusCode, 201, 'room again after a delete');
});

t.test('the database or Kafka unreachable: 503 webhooks-unavailable with Retry-After, nothing registered', async (t) => {
  const { app, webhookStore, topic } = await build(t);
  topic.down = true;
  const noKafka = await app.inject({ method: 'POST', url: '/v1/webhooks', payload: { id: 'w1', url: URL_OF } });
  t.equal(noKafka.statusCode, 503);
  t.equal(noKafka.headers['retry-after'], '1');
  t.match(noKafka.json(), { type: 'urn:teller:problem:webhooks-unavailable', retryAfter: 1 });
  t.equal(webhookStore.endpoints.size, 0);
  topic.down = false;
  webhookStore.down = true;
  for (const [method, url] of [['POST', '/v1/webhooks'], ['GET', '/v1/webhooks'], ['GET', '/v1/webhooks/w1']] as const) {
    const r = await app.inject({ method, url, ...(method === 'POST' ? { payload: { id: 'w1', url: URL_OF } } : {}) });
    t.equal(r.statusCode, 503, `${method} ${url}`);
    t.match(r.json(), { type: 'urn:teller:problem:webhooks-unavailable' });
  }
});

t.test('a key limited to accounts: only endpoints of its accounts, neither made nor seen for every account', async (t) => {
  const key = mintKey();
  const { app } = await build(t, { auth: new ApiKeyAuth(parseApiKeys(`${apiKeyEntry(key, ['alice'])};${apiKeyEntry('tk_every-account')}`)) });
  const as = (k: string) => ({ authorization: `Bearer ${k}` });
  t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks', headers: as('tk_every-account'), payload: { id: 'all', url: URL_OF } })).statusCode, 201);
  const every = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: as(key), payload: { id: 'mine', url: URL_OF } });
  t.equal(every.statusCode, 403);
  t.match(every.json(), { type: 'urn:teller:problem:forbidden', detail: /every account/ });
  const bob = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: as(key), payload: { id: 'mine', url: URL_OF, accountId: 'bob' } });
  t.equal(bob.statusCode, 403);
  t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks', headers: as(key), payload: { id: 'mine', url: URL_OF, accountId: 'alice' } })).statusCode, 201);
  t.same((await app.inject({ method: 'GET', url: '/v1/webhooks', headers: as(key) })).json().data.map((e: { id: string }) => e.id), ['mine']);
  t.same((await app.inject({ method: 'GET', url: '/v1/webhooks', headers: as('tk_every-account') })).json().data.map((e: { id: string }) => e.id), ['all', 'mine']);
  t.equal((await app.inject({ method: 'GET', url: '/v1/webhooks/all', headers: as(key) })).statusCode, 404, 'learns nothing of the other');
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/webhooks/all', headers: as(key) })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/v1/webhooks' })).statusCode, 401);
});

t.test('the OpenAPI document has the webhook operations, valid, the redelivery body optional', async (t) => {
  const { app } = await build(t);
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  await t.resolves(SwaggerParser.validate(structuredClone(document)), 'valid OpenAPI 3');
  const operations = Object.entries(document.paths as Record<string, object>)
    .filter(([path]) => path.startsWith('/v1/webhooks'))
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
  t.same(operations, [
    'DELETE /v1/webhooks/{id}',
    'GET /v1/webhooks',
    'GET /v1/webhooks/{id}',
    'GET /v1/webhooks/{id}/dead-letters',
    'POST /v1/webhooks',
    'POST /v1/webhooks/{id}/redeliver',
  ]);
  t.equal(document.paths['/v1/webhooks/{id}/redeliver'].post.requestBody.required, false);
  t.equal(document.paths['/v1/webhooks/{id}'].delete.responses['204'].content, undefined, 'a 204 has no body');
  t.ok(document.paths['/v1/webhooks'].post.responses['201'].content['application/json'].schema.properties.secret, 'the secret is documented on the registration');
  t.notOk(document.paths['/v1/webhooks/{id}'].get.responses['200'].content['application/json'].schema.properties.secret, 'and not on a read');
  t.ok(document.tags.some((tag: { name: string }) => tag.name === 'webhooks'));
});

// The OpenAPI document at /openapi.json, through NGINX: valid OpenAPI 3, every
// operation in it exercised here with each answer checked against what the
// document says (status, media type, body schema), and the /docs page served
// whole from the replica, with nothing fetched from another host.
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import t, { type Test } from 'tap';
import type { Reply } from '../helpers/http.js';
import { uniq } from '../helpers/http.js';
import { baseUrl, waitFor } from '../helpers/stack.js';
import { call } from '../helpers/v1.js';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
};

const raw = await fetch(`${baseUrl}/openapi.json`);
const doc = (await raw.json()) as Doc;

t.test('the document is valid OpenAPI 3', async (t) => {
  t.equal(raw.status, 200);
  t.match(raw.headers.get('content-type'), /^application\/json/);
  t.match(doc.openapi, /^3\.0\.\d+$/);
  await t.resolves(SwaggerParser.validate(structuredClone(doc) as never), 'swagger-parser validates it against the OpenAPI 3 schema');
  const operations = Object.values(doc.paths).flatMap((p) => Object.keys(p));
  t.ok(operations.length >= 12, `${operations.length} operations`);
});

const ajv = new Ajv({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv) => void)(ajv);

/** The documented response for `status`: the exact code, else its class (4XX). */
function documented(op: string, path: string, status: number) {
  const responses = doc.paths[path]![op]!.responses;
  return responses[String(status)] ?? responses[`${String(status)[0]}XX`];
}

function check(t: Test, method: string, path: string, r: Reply): void {
  const spec = documented(method.toLowerCase(), path, r.status);
  t.ok(spec, `${method} ${path}: ${r.status} is documented`);
  if (!spec?.content) return;
  const type = (r.headers.get('content-type') ?? '').split(';')[0]!;
  const media = spec.content[type];
  t.ok(media, `${method} ${path}: ${type} is the documented media type (${Object.keys(spec.content).join(', ')})`);
  if (!media || !type.endsWith('json')) return;
  const validate = ajv.compile(media.schema);
  t.ok(validate(r.body), `${method} ${path}: the body matches its schema ${JSON.stringify(validate.errors ?? [])}`);
}

/** GET `path` once it answers 200: an explanation is 404 until the ledger holds the decision. */
const explained = (path: string) =>
  waitFor(async () => {
    const r = await call('GET', path);
    return r.status === 200 ? r : undefined;
  }, { what: `GET ${path}`, timeoutMs: 30_000 });

t.test('every operation in the document is exercised, and answers as documented', async (t) => {
  const a = uniq('oa');
  const id = (s: string) => `${a}-${s}`;
  /** The cut POST /v1/cuts took, read by the two calls after it. */
  let cut = '';
  // In order: later calls rely on earlier ones (a hold to settle, a transaction to look up).
  const examples: [method: string, path: string, send: () => Promise<Reply>, status: number][] = [
    ['GET', '/healthz', () => call('GET', '/healthz'), 200],
    ['GET', '/readyz', () => call('GET', '/readyz'), 200],
    ['GET', '/metrics', () => call('GET', '/metrics'), 200],
    ['POST', '/transaction', () => call('POST', '/transaction', { id: id('c1'), type: 'deposit', amount: 10, accountId: a }), 200],
    ['GET', '/account/{accountId}', () => call('GET', `/account/${a}`), 200],
    ['POST', '/v1/accounts/{accountId}/deposits', () => call('POST', `/v1/accounts/${a}/deposits`, { id: id('d1'), amount: 1000 }), 200],
    ['POST', '/v1/accounts/{accountId}/withdrawal-requests', () => call('POST', `/v1/accounts/${a}/withdrawal-requests`, { id: id('r1'), amount: 100 }), 201],
    ['POST', '/v1/accounts/{accountId}/withdrawals', () => call('POST', `/v1/accounts/${a}/withdrawals`, { id: id('w1'), amount: 100, requestId: id('r1') }), 200],
    [
      'POST',
      '/v1/accounts/{accountId}/withdrawal-requests/{requestId}/cancel',
      async () => {
        await call('POST', `/v1/accounts/${a}/withdrawal-requests`, { id: id('r2'), amount: 50 });
        return call('POST', `/v1/accounts/${a}/withdrawal-requests/${id('r2')}/cancel`, { id: id('x2') });
      },
      200,
    ],
    ['GET', '/v1/accounts/{accountId}', () => call('GET', `/v1/accounts/${a}`), 200],
    [
      'POST',
      '/v1/cuts',
      async () => {
        const r = await call('POST', '/v1/cuts');
        cut = r.body?.cut;
        return r;
      },
      201,
    ],
    ['GET', '/v1/cuts/{cut}', () => call('GET', `/v1/cuts/${cut}`), 200],
    ['GET', '/v1/cuts/{cut}/accounts/{accountId}', () => call('GET', `/v1/cuts/${cut}/accounts/${a}`), 200],
    ['PUT', '/v1/accounts/{accountId}', () => call('PUT', `/v1/accounts/${a}`, { overdraftLimit: 25 }), 200],
    ['POST', '/v1/transfers', () => call('POST', '/v1/transfers', { id: id('t1'), from: a, to: `${a}-payee`, amount: 5, reference: 'ref 1', metadata: { k: 'v' } }), 200],
    ['GET', '/v1/transfers/{id}', () => call('GET', `/v1/transfers/${id('t1')}`), 200],
    [
      'POST',
      '/v1/transfers/{id}/post',
      async () => {
        await call('POST', '/v1/transfers', { id: id('t2'), from: a, to: `${a}-payee`, amount: 5, pending: true });
        return call('POST', `/v1/transfers/${id('t2')}/post`, { id: id('p2') });
      },
      200,
    ],
    [
      'POST',
      '/v1/transfers/{id}/void',
      async () => {
        await call('POST', '/v1/transfers', { id: id('t3'), from: a, to: `${a}-payee`, amount: 5, pending: true });
        return call('POST', `/v1/transfers/${id('t3')}/void`, { id: id('x3') });
      },
      200,
    ],
    ['POST', '/v1/transactions/{id}/reversal', () => call('POST', `/v1/transactions/${id('d1')}/reversal`, { id: id('v1'), amount: 10 }), 200],
    ['POST', '/v1/accounts/{accountId}/transactions/{id}/reversal', () => call('POST', `/v1/accounts/${a}/transactions/${id('d1')}/reversal`, { id: id('v2'), amount: 10 }), 200],
    ['GET', '/v1/transactions/{id}', () => call('GET', `/v1/transactions/${id('r1')}`), 200],
    ['GET', '/v1/accounts/{accountId}/transactions/{id}', () => call('GET', `/v1/accounts/${a}/transactions/${id('r1')}`), 200],
    [
      'GET',
      '/v1/accounts/{accountId}/transactions',
      () => waitFor(async () => {
        const r = await call('GET', `/v1/accounts/${a}/transactions?limit=2`);
        return r.body?.data?.length === 2 ? r : undefined;
      }, { what: 'statement entries', timeoutMs: 20_000 }),
      200,
    ],
    // An endpoint for this account's deposits only, at a port nobody listens on, deleted last.
    ['POST', '/v1/webhooks', () => call('POST', '/v1/webhooks', { id: id('wh'), url: 'http://127.0.0.1:9/openapi-test', eventTypes: ['deposit.applied'], accountId: a }), 201],
    ['GET', '/v1/webhooks', () => call('GET', '/v1/webhooks'), 200],
    ['GET', '/v1/webhooks/{id}', () => call('GET', `/v1/webhooks/${id('wh')}`), 200],
    ['GET', '/v1/webhooks/{id}/dead-letters', () => call('GET', `/v1/webhooks/${id('wh')}/dead-letters?limit=5`), 200],
    ['POST', '/v1/webhooks/{id}/redeliver', () => call('POST', `/v1/webhooks/${id('wh')}/redeliver`, {}), 202],
    ['DELETE', '/v1/webhooks/{id}', () => call('DELETE', `/v1/webhooks/${id('wh')}`), 204],
    // The ledger holds the account's entries now: its state as of now, from the ledger.
    ['GET', '/v1/accounts/{accountId}', () => call('GET', `/v1/accounts/${a}?asOf=${encodeURIComponent(new Date().toISOString())}`), 200],
    // Once the ledger holds the decisions (it trails the answers): a replay of each from the log.
    ['GET', '/v1/transactions/{id}/explanation', () => explained(`/v1/transactions/${id('d1')}/explanation`), 200],
    ['GET', '/v1/accounts/{accountId}/transactions/{id}/explanation', () => explained(`/v1/accounts/${a}/transactions/${id('r1')}/explanation`), 200],
  ];
  const exercised = new Set<string>();
  for (const [method, path, send, status] of examples) {
    const r = await send();
    t.equal(r.status, status, `${method} ${path} -> ${status}`);
    check(t, method, path, r);
    exercised.add(`${method} ${path}`);
  }
  const inDoc = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  t.same([...inDoc].sort(), [...exercised].sort(), 'the operations exercised are exactly those in the document');

  // Errors answer as documented too.
  const errors: [string, string, () => Promise<Reply>][] = [
    ['GET', '/v1/accounts/{accountId}', () => call('GET', `/v1/accounts/${uniq('nobody')}`)],
    ['GET', '/v1/accounts/{accountId}', () => call('GET', `/v1/accounts/${a}?asOf=yesterday`)],
    ['GET', '/v1/accounts/{accountId}/transactions', () => call('GET', `/v1/accounts/${a}/transactions?type=loan`)],
    ['GET', '/v1/cuts/{cut}', () => call('GET', `/v1/cuts/${uniq('cut')}`)],
    ['POST', '/v1/accounts/{accountId}/deposits', () => call('POST', `/v1/accounts/${a}/deposits`, { id: id('bad'), amount: -1 })],
    ['POST', '/v1/accounts/{accountId}/withdrawal-requests', () => call('POST', `/v1/accounts/${a}/withdrawal-requests`, { id: id('r9'), amount: 10 ** 12 })],
    ['GET', '/v1/transactions/{id}', () => call('GET', `/v1/transactions/${uniq('unknown')}`)],
    ['POST', '/transaction', () => call('POST', '/transaction', { id: id('c1'), type: 'deposit', amount: 11, accountId: a })],
    ['GET', '/v1/webhooks/{id}', () => call('GET', `/v1/webhooks/${uniq('unknown')}`)],
    ['POST', '/v1/webhooks', () => call('POST', '/v1/webhooks', { id: id('wh-bad'), url: 'ftp://127.0.0.1/x' })],
  ];
  for (const [method, path, send] of errors) {
    const r = await send();
    t.ok(r.status >= 400, `${method} ${path} -> ${r.status}`);
    check(t, method, path, r);
  }
});

t.test('/docs works offline: the page and all it loads come from the replica', async (t) => {
  const page = await fetch(`${baseUrl}/docs/`);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html/);
  const html = await page.text();
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  t.ok(refs.length >= 4, `the page loads ${refs.length} assets`);
  for (const ref of refs) {
    t.notMatch(ref, /^(?:[a-z]+:)?\/\//i, `${ref} is served by the replica itself, not a CDN`);
    const res = await fetch(new URL(ref, `${baseUrl}/docs/`));
    await res.arrayBuffer();
    t.equal(res.status, 200, `${ref} -> 200`);
  }
  const init = await (await fetch(`${baseUrl}/docs/static/swagger-initializer.js`)).text();
  t.match(init, /validatorUrl":\s*null/, 'no call to the public validator service');
  t.match(init, /url: resolveUrl\('\.\/json'\)/, 'the document is loaded from the replica');
  const fromUi = await (await fetch(`${baseUrl}/docs/json`)).json();
  t.same(Object.keys((fromUi as Doc).paths).sort(), Object.keys(doc.paths).sort(), 'the page shows the same document');
});

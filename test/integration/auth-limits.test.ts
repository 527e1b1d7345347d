// API keys and NGINX's rate limit, on the real stack's Kafka, MongoDB and Redis:
// an extra api replica started with API_KEYS behind an NGINX rendered from the
// same template, and an NGINX with a low rate limit in front of the stack's own
// replicas (the stack itself runs with neither, so the other tests need no key).
import t from 'tap';
import { apiKeyEntry, mintKey } from '../../scripts/operations/api-key.js';
import { startApiReplica, startNginx, type Front } from '../helpers/front.js';
import { uniq } from '../helpers/http.js';
import { readStack } from '../helpers/stack.js';
import { call } from '../helpers/v1.js';

const PROBLEM = /^application\/problem\+json/;

t.test('API keys: 401 without a valid key, 403 outside its accounts, public operations open', async (t) => {
  const full = mintKey();
  const limited = mintKey();
  const mine = uniq('auth-mine');
  const theirs = uniq('auth-theirs');
  const fronts: Front[] = [];
  t.teardown(async () => {
    for (const f of fronts.reverse()) await f.stop();
  });
  const replica = await startApiReplica({ API_KEYS: `${apiKeyEntry(full)}; ${apiKeyEntry(limited, [mine])}` }, `api-keys-${process.pid}`);
  fronts.push(replica);
  const nginx = await startNginx({}, [replica.port]);
  fronts.push(nginx);
  const as = (key?: string) => (key ? { authorization: `Bearer ${key}` } : {});
  const send = (method: string, path: string, body?: unknown, key?: string) => call(method, path, body, as(key), nginx.url);

  for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs/']) {
    t.equal((await send('GET', path)).status, 200, `${path} needs no key`);
  }
  const docsAsset = await send('GET', '/docs/static/swagger-ui.css');
  t.equal(docsAsset.status, 200, "the docs page's assets need no key");

  const deposit = (account: string, id: string, key?: string) => send('POST', `/v1/accounts/${account}/deposits`, { id, amount: 10 }, key);
  let r = await deposit(mine, `${mine}-0`);
  t.equal(r.status, 401, 'no key -> 401');
  t.match(r.headers.get('content-type'), PROBLEM);
  t.equal(r.headers.get('www-authenticate'), 'Bearer realm="teller"');
  t.match(r.body, { status: 401, type: 'urn:teller:problem:unauthorized' });
  for (const [what, header] of [
    ['an unknown key', `Bearer ${mintKey()}`],
    ['a key as Basic', `Basic ${Buffer.from(`x:${full}`).toString('base64')}`],
    ['Bearer and nothing', 'Bearer '],
    ['a key with a digest of another', `Bearer ${apiKeyEntry(full)}`],
  ]) {
    r = await call('POST', `/v1/accounts/${mine}/deposits`, { id: `${mine}-x`, amount: 1 }, { authorization: header }, nginx.url);
    t.equal(r.status, 401, `${what} -> 401`);
  }
  t.equal((await send('GET', '/no-such-route')).status, 401, 'an unknown route tells nothing without a key');

  r = await deposit(mine, `${mine}-1`, full);
  t.equal(r.status, 200, 'the full key may act on any account');
  r = await deposit(theirs, `${theirs}-1`, full);
  t.equal(r.status, 200);
  r = await deposit(mine, `${mine}-2`, limited);
  t.equal(r.status, 200, 'the limited key on its account');
  t.match(r.body, { balance: 20 });
  t.equal((await send('GET', `/v1/accounts/${mine}`, undefined, limited)).status, 200);
  t.equal((await send('GET', `/v1/accounts/${mine}/transactions`, undefined, limited)).status, 200);

  for (const [what, method, path, body] of [
    ['a deposit', 'POST', `/v1/accounts/${theirs}/deposits`, { id: `${theirs}-2`, amount: 10 }],
    ['a withdrawal request', 'POST', `/v1/accounts/${theirs}/withdrawal-requests`, { id: `${theirs}-3`, amount: 1 }],
    ['account state', 'GET', `/v1/accounts/${theirs}`, undefined],
    ['a statement', 'GET', `/v1/accounts/${theirs}/transactions`, undefined],
    ['the contract GET', 'GET', `/account/${theirs}`, undefined],
    ['the contract POST', 'POST', '/transaction', { id: `${theirs}-4`, type: 'deposit', amount: 1, accountId: theirs }],
  ] as const) {
    r = await send(method, path, body, limited);
    t.equal(r.status, 403, `${what} on another account -> 403`);
    t.match(r.headers.get('content-type'), PROBLEM);
    t.match(r.body, { status: 403, type: 'urn:teller:problem:forbidden' });
  }
  r = await send('GET', `/v1/transactions/${theirs}-1`, undefined, limited);
  t.equal(r.status, 404, "another account's transaction does not exist for a limited key");
  r = await send('GET', `/v1/transactions/${theirs}-1`, undefined, full);
  t.equal(r.status, 200, 'it does for a key of every account');
  t.equal((await send('GET', `/v1/accounts/${theirs}`, undefined, full)).body.balance, 10, 'the refused calls changed nothing');

  const doc = (await send('GET', '/openapi.json')).body;
  t.same(doc.security, [{ bearerAuth: [] }], 'the document says a bearer key is needed');
  t.same(doc.paths['/healthz'].get.security, [], 'except for the public operations');
  t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' });
});

t.test("NGINX's rate limit per client: 429 as problem+json past the burst, calls pass again after", async (t) => {
  const ports = readStack()
    .components.filter((c) => c.kind === 'api')
    .map((c) => c.port!)
    .sort((x, y) => x - y);
  const nginx = await startNginx({ RATE_LIMIT_RPS: '5', RATE_LIMIT_BURST: '5' }, ports);
  t.teardown(() => nginx.stop());
  const replies = await Promise.all(Array.from({ length: 40 }, () => call('GET', '/healthz', undefined, {}, nginx.url)));
  const ok = replies.filter((r) => r.status === 200).length;
  const limited = replies.filter((r) => r.status === 429);
  t.ok(ok >= 1 && ok <= 10, `the burst passes (${ok} of 40)`);
  t.equal(ok + limited.length, 40, 'the rest are refused');
  const one = limited[0]!;
  t.match(one.headers.get('content-type'), PROBLEM);
  t.equal(one.headers.get('retry-after'), '1');
  t.match(one.body, { type: 'urn:teller:problem:rate-limited', title: 'Too Many Requests', status: 429, detail: String });

  const a = uniq('limited');
  await new Promise((r) => setTimeout(r, 1500));
  const r = await call('POST', `/v1/accounts/${a}/deposits`, { id: `${a}-d`, amount: 3 }, {}, nginx.url);
  t.equal(r.status, 200, 'after a pause, calls pass again');
});

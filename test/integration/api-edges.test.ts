// The api's edges on the real stack, through NGINX unless a case needs one
// replica: bodies read strictly (nothing ambiguous is applied), a cancel
// without a body, an id given back when the producer refused a call unsent,
// and the bound on the statement queue.
import t from 'tap';
import { uniq } from '../helpers/http.js';
import { baseUrl, config, killComponent, readStack, waitFor } from '../helpers/stack.js';
import { call, v1 } from '../helpers/v1.js';

const PROBLEM = /^application\/problem\+json/;

interface RawReply {
  status: number;
  headers: Headers;
  body: any;
}

/** A POST of exactly these bytes with exactly these headers: no JSON encoding, no Content-Type added. */
async function rawPost(path: string, body: string | Uint8Array<ArrayBuffer> | undefined, headers: Record<string, string>): Promise<RawReply> {
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text so a failing assertion shows it.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

t.test('ambiguous JSON is refused and changes nothing, on v1 and the compatibility route', async (t) => {
  const a = uniq('strict');
  t.equal((await v1.deposit(a, { id: `${a}-seed`, amount: 10 })).status, 200);
  const deposits = `/v1/accounts/${a}/deposits`;
  const json = 'application/json';
  const cases: [what: string, id: string, path: string, body: string | Uint8Array<ArrayBuffer>, contentType: string, status: number, type: string][] = [
    ['a fraction below the float precision', `${a}-1`, deposits, `{"id":"${a}-1","amount":1.0000000000000001}`, json, 400, 'ambiguous-json'],
    ['a key twice', `${a}-2`, deposits, `{"id":"${a}-2","amount":1,"amount":100000}`, json, 400, 'ambiguous-json'],
    ['a key twice, compatibility route', `${a}-3`, '/transaction', `{"id":"${a}-3","type":"deposit","amount":1,"accountId":"${a}","amount":100000}`, json, 400, 'ambiguous-json'],
    ['UTF-16', `${a}-4`, deposits, new Uint8Array(Buffer.from(JSON.stringify({ id: `${a}-4`, amount: 5 }), 'utf16le')), `${json}; charset=utf-16`, 415, 'unsupported-charset'],
    ['ISO-8859-1', `${a}-5`, '/transaction', JSON.stringify({ id: `${a}-5`, type: 'deposit', amount: 5, accountId: a }), `${json}; charset=iso-8859-1`, 415, 'unsupported-charset'],
  ];
  for (const [what, id, path, body, contentType, status, type] of cases) {
    const r = await rawPost(path, body, { 'content-type': contentType });
    t.equal(r.status, status, `${what}: ${status}`);
    t.match(r.headers.get('content-type'), PROBLEM, `${what}: problem+json`);
    t.match(r.body, { type: `urn:teller:problem:${type}`, status, detail: String }, `${what}: ${type}`);
    t.equal((await v1.transaction(id)).status, 404, `${what}: the id was never registered`);
  }
  const twice = await rawPost(deposits, `{"id":"${a}-2","amount":1,"amount":100000}`, { 'content-type': json });
  t.match(twice.body, { fault: 'duplicate_key', position: Number, detail: /the key "amount" appears twice/ }, 'the problem says which fault and where');
  t.match((await v1.account(a)).body, { balance: 10, reserved: 0 }, 'nothing was applied');
});

t.test('a cancel with its id only in Idempotency-Key needs no body', async (t) => {
  const a = uniq('bodiless');
  t.equal((await v1.deposit(a, { id: `${a}-d`, amount: 100 })).status, 200);
  t.equal((await v1.request(a, { id: `${a}-r1`, amount: 40 })).status, 201);
  t.equal((await v1.request(a, { id: `${a}-r2`, amount: 30 })).status, 201);
  const cancelOf = (requestId: string) => `/v1/accounts/${a}/withdrawal-requests/${requestId}/cancel`;

  const noBody = await rawPost(cancelOf(`${a}-r1`), undefined, { 'idempotency-key': `${a}-c1` });
  t.equal(noBody.status, 200, 'no body and no Content-Type');
  t.match(noBody.body, { id: `${a}-c1`, type: 'cancel', requestId: `${a}-r1`, status: 'applied', balance: 100, reserved: 30 });
  const emptyJson = await rawPost(cancelOf(`${a}-r2`), '', { 'content-type': 'application/json', 'idempotency-key': `${a}-c2` });
  t.equal(emptyJson.status, 200, 'Content-Type application/json and an empty body');
  t.match(emptyJson.body, { id: `${a}-c2`, status: 'applied', reserved: 0 });

  const repeat = await rawPost(cancelOf(`${a}-r1`), undefined, { 'idempotency-key': `${a}-c1` });
  t.equal(repeat.status, 200);
  t.equal(repeat.headers.get('idempotent-replayed'), 'true', 'a repeat without a body is a replay of the same call');
  const neither = await rawPost(cancelOf(`${a}-r1`), undefined, {});
  t.equal(neither.status, 400);
  t.match(neither.body, { type: 'urn:teller:problem:id-required' }, 'no body and no header: id-required');
  t.match((await v1.account(a)).body, { balance: 100, reserved: 0 });
});

t.test(
  'an id the producer refused unsent is free again; one sent and not confirmed stays registered',
  { skip: config.kafkaExternal ? 'Kafka is external: the test pauses the local broker' : false },
  async (t) => {
    // One replica, so the second call meets the refusal its first failed send set up.
    const replica = `http://127.0.0.1:${readStack().components.find((c) => c.kind === 'api')!.port}`;
    const a = uniq('unsent');
    const b = uniq('unsent-other');
    const unconfirmedId = `${a}-sent`;
    const unsentId = `${a}-unsent`;
    const deposit = (id: string) => call('POST', `/v1/accounts/${a}/deposits`, { id, amount: 5 }, {}, replica);
    // A paused broker takes the send and does not answer; about PRODUCER_SEND_TIMEOUT_MS (2 s), well
    // within the consumers' session timeout, so the group does not rebalance.
    const kafkaPid = killComponent('kafka', 'SIGSTOP');
    let unconfirmed;
    let unsent;
    try {
      unconfirmed = await deposit(unconfirmedId);
      // Within a second of that failed send the replica refuses new calls without sending them.
      unsent = await deposit(unsentId);
    } finally {
      process.kill(kafkaPid, 'SIGCONT');
    }
    t.equal(unconfirmed.status, 503);
    t.match(unconfirmed.body, { type: 'urn:teller:problem:unconfirmed', retryAfter: 1 });
    t.equal(unconfirmed.headers.get('retry-after'), '1', 'Retry-After, as the body says');
    t.equal(unsent.status, 503);
    t.match(unsent.body, { type: 'urn:teller:problem:unavailable', retryAfter: 1 });
    t.equal(unsent.headers.get('retry-after'), '1');

    t.equal((await v1.transaction(unsentId)).status, 404, 'the refused id does not read pending');
    t.equal((await v1.transaction(unconfirmedId)).status, 200, 'the unconfirmed one stays registered (pending, or decided once Kafka wrote it)');

    const elsewhere = await waitFor(
      async () => {
        const r = await v1.deposit(b, { id: unsentId, amount: 3 });
        return r.status === 503 ? undefined : r;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'writes taken again after the broker resumed' },
    );
    t.equal(elsewhere.status, 200, 'the refused id is taken on another account');
    t.match(elsewhere.body, { accountId: b, status: 'applied', balance: 3 });
    t.equal((await v1.deposit(b, { id: unconfirmedId, amount: 5 })).status, 409, 'the unconfirmed id is still refused on another account');
    t.match((await v1.transaction(unsentId)).body, { accountId: b, status: 'applied' });
  },
);

t.test("statements past a replica's queue are refused at once with Retry-After", async (t) => {
  const a = uniq('statements');
  // A replica whose producer met the paused broker above may still refuse for a moment: a retry
  // with the same id is safe, which is what a 503 says.
  for (let i = 0; i < 3; i++) {
    const deposited = await waitFor(
      async () => {
        const r = await v1.deposit(a, { id: `${a}-${i}`, amount: 1 });
        return r.status === 503 ? undefined : r;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'a deposit taken' },
    );
    t.equal(deposited.status, 200);
  }
  // The ledger trails the answers by a few milliseconds.
  await waitFor(async () => (await v1.statement(a)).body?.data?.length === 3, { timeoutMs: 10_000, intervalMs: 100, what: 'the statement holds all three deposits' });
  const calls = 120;
  const replies = await Promise.all(
    Array.from({ length: calls }, async () => {
      const started = Date.now();
      const r = await v1.statement(a, '?limit=2');
      return { ...r, ms: Date.now() - started };
    }),
  );
  const busy = replies.filter((r) => r.status === 503);
  const statuses = replies.map((r) => r.status).join(',');
  t.ok(
    replies.every((r) => r.status === 200 || (r.status === 503 && r.body.type === 'urn:teller:problem:statements-busy')),
    `each answer is a page or statements-busy: ${statuses}`,
  );
  // Whether any is refused depends on how fast the database answers a page (with its indexes,
  // FerretDB often keeps up with 120 at once); the bound itself is tested with a slow collection
  // in test/unit/statement.test.ts. Here: a refusal, if any, is the fast 503 the contract names.
  t.comment(`${busy.length} of ${calls} refused as statements-busy`);
  for (const r of busy) {
    t.equal(r.headers.get('retry-after'), '1', 'Retry-After: 1');
    t.match(r.headers.get('content-type'), PROBLEM);
  }
  t.ok(Math.max(...replies.map((r) => r.ms)) < 15_000, "every answer came before NGINX's read timeout");
  t.match(replies.find((r) => r.status === 200)?.body, { accountId: a, data: [{}, {}], hasMore: true });
});

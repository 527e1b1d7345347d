// Admission control on the real stack's Kafka, MongoDB and Redis: an extra api
// replica started with MAX_CALLS_IN_FLIGHT=1, behind an NGINX rendered from
// the same template. Deposits sent at once through that NGINX are each
// decided (200) or refused at once (503 overloaded with Retry-After, passed
// through NGINX as the replica sent it, never a 502 or 504); a refused call
// is unknown to the ledger, and retried with its id it is applied once.
import t from 'tap';
import { startApiReplica, startNginx, type Front } from '../helpers/front.js';
import { uniq } from '../helpers/http.js';
import { waitFor } from '../helpers/stack.js';
import { call } from '../helpers/v1.js';

const PROBLEM = /^application\/problem\+json/;
const CALLS = 100;

t.test('a replica at its limit refuses the next call at once, through NGINX; a retry with the same id applies once', async (t) => {
  const fronts: Front[] = [];
  t.teardown(async () => {
    for (const f of fronts.reverse()) await f.stop();
  });
  const replica = await startApiReplica({ MAX_CALLS_IN_FLIGHT: '1' }, `api-overload-${process.pid}`);
  fronts.push(replica);
  const nginx = await startNginx({}, [replica.port]);
  fronts.push(nginx);

  const account = uniq('overload');
  const path = `/v1/accounts/${account}/deposits`;
  const ids = Array.from({ length: CALLS }, (_, i) => `${account}-${i}`);
  const replies = await Promise.all(ids.map((id) => call('POST', path, { id, amount: 1 }, {}, nginx.url)));
  const statuses = replies.map((r) => r.status);
  // 202: taken and decided past the deadline, on a stack busy with other work.
  t.same(statuses.filter((s) => s !== 200 && s !== 202 && s !== 503), [], 'every call taken or refused: no 502, 504 or other');
  const refused = ids.filter((_, i) => statuses[i] === 503);
  t.ok(refused.length > 0, `calls sent at once past the limit of 1 are refused (${refused.length} of ${CALLS})`);
  t.ok(refused.length < CALLS, 'and the one in flight is taken');

  const one = replies.find((r) => r.status === 503)!;
  t.match(one.headers.get('content-type'), PROBLEM, "the replica's problem, not NGINX's page");
  t.equal(one.headers.get('retry-after'), '1');
  t.match(one.body, { type: 'urn:teller:problem:overloaded', status: 503, reason: 'calls_in_flight', retryAfter: 1 });

  for (const id of refused) {
    const lookup = await call('GET', `/v1/accounts/${account}/transactions/${id}`, undefined, {}, replica.url);
    t.equal(lookup.status, 404, `${id}: the refused call left nothing`);
  }
  for (const id of refused) {
    const retry = await call('POST', path, { id, amount: 1 }, {}, nginx.url);
    t.ok(retry.status === 200 || retry.status === 202, `${id}: retried alone, it is taken (${retry.status})`);
    t.equal(retry.headers.get('idempotent-replayed'), null, `${id}: as a new call, not a replay`);
  }
  const balance = () => call('GET', `/v1/accounts/${account}`, undefined, {}, nginx.url).then((r) => r.body?.balance);
  await waitFor(async () => (await balance()) === CALLS, { what: `balance ${CALLS}`, timeoutMs: 30_000 });
  t.equal(await balance(), CALLS, 'every deposit applied exactly once');

  const metrics = await call('GET', '/metrics', undefined, {}, replica.url);
  const counted = new RegExp(`teller_calls_refused_total\\{reason="calls_in_flight",replica="api-overload-${process.pid}"\\} (\\d+)`).exec(String(metrics.body));
  t.equal(Number(counted?.[1]), refused.length, 'each refusal counted');
});

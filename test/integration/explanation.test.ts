// Explanations of decisions through NGINX on the real stack (docs/explanations.md):
// deposits, a withdrawal request approved and one denied, a repeat. Each
// explanation replays the account's partition from Kafka and the snapshots,
// gives the outcome GET /v1/transactions/:id gives, the ledger's document
// again, and the inputs that decided: the denied request saw less available
// than it asked for.
import t from 'tap';
import { uniq } from '../helpers/http.js';
import { waitFor } from '../helpers/stack.js';
import { call, v1 } from '../helpers/v1.js';

const explanation = (id: string, accountId?: string) =>
  call('GET', accountId === undefined ? `/v1/transactions/${encodeURIComponent(id)}/explanation` : `/v1/accounts/${encodeURIComponent(accountId)}/transactions/${encodeURIComponent(id)}/explanation`);

/** The explanation of `id`, once the ledger holds its decision (it trails the answers by a few milliseconds). */
async function explained(id: string, accountId?: string) {
  return waitFor(
    async () => {
      const r = await explanation(id, accountId);
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw new Error(`GET ${id}/explanation answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    },
    { what: `the explanation of ${id}`, timeoutMs: 30_000, intervalMs: 200 },
  );
}

t.test('deposits, a request approved and one denied, a repeat: explained as decided', async (t) => {
  const a = uniq('explain');
  const ids = { d1: uniq('d1'), d2: uniq('d2'), approved: uniq('r-ok'), denied: uniq('r-no') };
  t.equal((await v1.deposit(a, { id: ids.d1, amount: 100 })).status, 200);
  t.equal((await v1.deposit(a, { id: ids.d2, amount: 50 })).status, 200);
  t.equal((await v1.request(a, { id: ids.approved, amount: 120 })).status, 201);
  const denied = await v1.request(a, { id: ids.denied, amount: 100 });
  t.equal(denied.status, 402);
  t.match(denied.body, { reason: 'insufficient_funds' });
  const repeat = await v1.deposit(a, { id: ids.d1, amount: 100 });
  t.equal(repeat.status, 200);
  t.equal(repeat.headers.get('idempotent-replayed'), 'true', 'the repeat answers the first outcome');

  const rules = { d1: 'deposit', d2: 'deposit', approved: 'request-approved', denied: 'request-insufficient-funds' } as const;
  for (const [name, id] of Object.entries(ids) as [keyof typeof ids, string][]) {
    const body = await explained(id);
    const lookup = await v1.transaction(id);
    t.equal(lookup.status, 200);
    t.strictSame(body.outcome, lookup.body, `${name}: the outcome GET /v1/transactions/:id answers`);
    t.equal(body.matchesLedger, true, `${name}: the replay writes the ledger's document again`);
    t.equal(body.rule, rules[name], `${name}: decided by ${rules[name]}`);
    t.match(body, { id, accountId: a, clock: { source: /^(receivedAt|log-append-time)$/ }, replay: { from: /^(snapshot|log-start)$/ } });
    t.ok(body.replay.records >= 1, `${name}: ${body.replay.records} records replayed from offset ${body.replay.startOffset}`);
    // The replay's own figures may differ: a snapshot may have been pruned in between.
    const { replay: _first, ...decision } = body;
    const { replay: _second, ...again } = await explained(id, a);
    t.strictSame(again, decision, `${name}: the account's route explains the same decision`);
  }

  const d1 = await explained(ids.d1);
  t.match(d1, { outcome: { balance: 100 }, account: { exists: false, balance: 0 } }, 'the repeat wrote nothing: the id explains its first decision');
  t.notOk(d1.outcome.replayed, 'the first decision, not the repeat');
  const no = await explained(ids.denied);
  t.match(no, { account: { balance: 150, reserved: 120, available: 30 }, holdLimit: Number });
  t.ok(no.account.available < no.outcome.amount, `available ${no.account.available} below the ${no.outcome.amount} asked`);
  const ok = await explained(ids.approved);
  t.ok(ok.account.available >= ok.outcome.amount, 'the approved one had enough');

  const unknown = await explanation(uniq('never'));
  t.equal(unknown.status, 404);
  t.match(unknown.body, { type: 'urn:teller:problem:transaction-not-found' });
});

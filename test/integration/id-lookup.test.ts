// Ids past Redis's horizon, on the real stack. Redis keeps an id's outcome and
// its registration for OUTCOME_TTL_SECONDS (ten minutes by default, too long
// to wait for here), so the tests delete both keys by hand, as their expiry
// would: a repeat still gets its first outcome, read back from the ledger once
// the owner's memory has let it go; `GET /v1/transactions/:id` reads the
// ledger; and once the registry has let an id go, another account may use it.
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { keys } from '../../common/read-model.js';
import type { LedgerDoc } from '../../common/types.js';
import { uniq } from '../helpers/http.js';
import { config, readStack, waitFor } from '../helpers/stack.js';
import { call, v1 } from '../helpers/v1.js';

const stack = readStack();
const redis = new Redis(stack.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
const mongo = await MongoClient.connect(stack.mongoUri);
t.teardown(async () => {
  redis.disconnect();
  await mongo.close();
});
const ledger = mongo.db(config.mongoDb).collection<LedgerDoc>('transactions');

/** Waits until the ledger holds the decision of `id` on `accountId`. */
function inserted(accountId: string, id: string): Promise<LedgerDoc> {
  return waitFor(async () => (await ledger.findOne({ accountId, id })) ?? undefined, { what: `the ledger document of ${id}`, timeoutMs: 20_000, intervalMs: 50 });
}

/**
 * Makes the owner let go of the account's decisions so far: a deposit decided
 * and inserted, then another, whose batch starts after that insert is done
 * (memory lets go of inserted decisions at the start of a batch).
 */
async function letGo(accountId: string): Promise<void> {
  for (const n of [1, 2]) {
    const id = `${accountId}-later${n}`;
    const r = await v1.deposit(accountId, { id, amount: 1 });
    if (r.status !== 200) throw new Error(`deposit ${id}: ${r.status}`);
    await inserted(accountId, id);
  }
}

/** What expiry would do after OUTCOME_TTL_SECONDS: Redis forgets the id's outcome and its registration. */
async function pastHorizon(accountId: string, id: string): Promise<void> {
  await redis.del(keys.outcome(accountId, id), keys.txId(id));
}

t.test('a repeat after its outcome left Redis gets its first outcome, read back from the ledger', async (t) => {
  const a = uniq('lookup');
  const id = `${a}-d1`;
  t.equal((await v1.deposit(a, { id, amount: 100 })).status, 200);
  await inserted(a, id);
  await letGo(a);
  await pastHorizon(a, id);

  const again = await v1.deposit(a, { id, amount: 100 });
  t.equal(again.status, 200);
  t.equal(again.headers.get('idempotent-replayed'), 'true', 'a replay');
  t.match(again.body, { id, status: 'applied', amount: 100, balance: 100 }, 'the first outcome: the balance right after it');
  const other = await v1.deposit(a, { id, amount: 99 });
  t.equal(other.status, 409, 'another body under the id: a conflict');
  t.match((await v1.account(a)).body, { balance: 102 }, 'neither changed the account');
});

t.test('a repeat of a request cancelled since answers cancelled, from the ledger', async (t) => {
  const a = uniq('lookup');
  const requestId = `${a}-r`;
  t.equal((await v1.deposit(a, { id: `${a}-d`, amount: 100 })).status, 200);
  t.equal((await v1.request(a, { id: requestId, amount: 40 })).status, 201);
  t.equal((await v1.cancel(a, requestId, { id: `${a}-c` })).status, 200);
  await inserted(a, `${a}-c`);
  await letGo(a);
  await pastHorizon(a, requestId);

  const again = await v1.request(a, { id: requestId, amount: 40 });
  t.equal(again.status, 402);
  t.match(again.body, { id: requestId, status: 'cancelled', reserved: 40 }, 'the first outcome, cancelled since');
  t.match((await v1.account(a)).body, { balance: 102, reserved: 0 }, 'nothing held again');
});

t.test('GET /v1/transactions/:id reads the ledger once Redis has let the id go', async (t) => {
  const a = uniq('lookup');
  const id = `${a}-d`;
  const requestId = `${a}-r`;
  t.equal((await v1.deposit(a, { id, amount: 100 })).status, 200);
  t.equal((await v1.request(a, { id: requestId, amount: 40 })).status, 201);
  t.equal((await v1.cancel(a, requestId, { id: `${a}-c` })).status, 200);
  await inserted(a, `${a}-c`);
  await pastHorizon(a, id);
  await pastHorizon(a, requestId);

  const deposit = await v1.transaction(id);
  t.equal(deposit.status, 200);
  t.match(deposit.body, { id, accountId: a, type: 'deposit', status: 'applied', amount: 100, balance: 100 });
  const request = await v1.transaction(requestId);
  t.equal(request.status, 200);
  t.match(request.body, { id: requestId, status: 'cancelled' }, 'with what became of the request');
  const exact = await call('GET', `/v1/accounts/${a}/transactions/${id}`);
  t.equal(exact.status, 200);
  t.match(exact.body, { id, accountId: a, status: 'applied' });
  t.equal((await call('GET', `/v1/accounts/${uniq('other')}/transactions/${id}`)).status, 404, 'not on another account');
  t.equal((await v1.transaction(`${a}-never`)).status, 404, 'an id neither holds');
});

t.test("past the registry's horizon an id may be used on another account, and each account keeps its own", async (t) => {
  const a = uniq('lookup-a');
  const b = uniq('lookup-b');
  const id = `${a}-shared`;
  t.equal((await v1.deposit(a, { id, amount: 10 })).status, 200);
  t.equal((await v1.deposit(b, { id, amount: 20 })).status, 409, 'within the horizon: refused on another account');
  await inserted(a, id);
  await pastHorizon(a, id);
  const onB = await v1.deposit(b, { id, amount: 20 });
  t.equal(onB.status, 200, 'after it: another transaction on another account');
  t.match(onB.body, { accountId: b, balance: 20 });
  await inserted(b, id);
  await pastHorizon(b, id);
  t.match((await v1.transaction(id)).body, { accountId: b, amount: 20 }, 'by id alone: the newest decision');
  t.match((await call('GET', `/v1/accounts/${a}/transactions/${id}`)).body, { accountId: a, amount: 10 }, 'by account: exactly');
});

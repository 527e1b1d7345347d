// Redis missing or losing writes while it keeps the partition's ready marker:
// the owner writes the partition back whole, so the accounts and outcomes of
// the batches Redis did not take reach their decided state within seconds
// rather than at the account's next change, and reads never go back to state
// older than what they already served.
import t from 'tap';
import { Redis } from 'ioredis';
import { partitionOf } from '../../common/message.js';
import { ACCOUNT_FIELDS, keys } from '../../common/read-model.js';
import { uniq } from '../helpers/http.js';
import { config, readStack, topicPartitions, waitFor } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

const stack = readStack();
const redis = new Redis(stack.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
t.teardown(() => redis.disconnect());

const count = await topicPartitions();

/** Waits until GET /v1/transactions/:id answers the decision, not `pending`. */
function decided(id: string) {
  return waitFor(
    async () => {
      const r = await v1.transaction(id);
      return r.status === 200 && r.body.status !== 'pending' ? r.body : undefined;
    },
    { what: `${id} decided in the read model`, timeoutMs: 30_000, intervalMs: 100 },
  );
}

t.test('a deposit whose read-model write Redis refused (at its memory limit) is written back once Redis takes writes again', async (t) => {
  const [, maxmemory] = (await redis.config('GET', 'maxmemory')) as string[];
  const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
  const restore = async () => {
    await redis.config('SET', 'maxmemory', maxmemory!);
    await redis.config('SET', 'maxmemory-policy', policy!);
  };
  t.teardown(restore);
  const account = uniq('oom');
  const id = `${account}-d`;

  await redis.config('SET', 'maxmemory-policy', 'noeviction');
  await redis.config('SET', 'maxmemory', '1');
  const refused = await v1.deposit(account, { id, amount: 70 });
  // The owner decides it, but its Lua write, with the announcement, is refused: the api's wait ends.
  t.equal(refused.status, 202, 'the deposit is in the log; its decision did not reach the api in time');
  // An upkeep round (one a second) tries the write-back while Redis still refuses it.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.ok(await redis.exists(keys.ready(partitionOf(account, count))), 'the ready marker stayed');
  await restore();

  const balance = await waitFor(
    async () => {
      const r = await v1.account(account);
      return r.status === 200 ? r.body.balance : undefined;
    },
    { what: `${account} in the read model`, timeoutMs: 30_000, intervalMs: 100 },
  );
  t.equal(balance, 70, 'the account as decided');
  t.match(await decided(id), { id, status: 'applied', balance: 70 }, 'and the outcome, found by its id');
});

t.test('an account and an outcome Redis lost, with its written marker lowered as an older copy has it, are written back', async (t) => {
  const account = uniq('older');
  const partition = partitionOf(account, count);
  t.equal((await v1.deposit(account, { id: `${account}-d1`, amount: 100 })).status, 200);
  const firstOffset = await redis.hget(keys.account(account), ACCOUNT_FIELDS.offset);
  t.equal((await v1.deposit(account, { id: `${account}-d2`, amount: 50 })).status, 200);
  t.match((await v1.account(account)).body, { balance: 150 });

  // What a Redis restarted from a copy saved between the two deposits holds.
  await redis.hset(keys.account(account), ACCOUNT_FIELDS.balance, 100, ACCOUNT_FIELDS.offset, firstOffset!);
  await redis.del(keys.outcome(account, `${account}-d2`));
  await redis.set(keys.written(partition), firstOffset!);

  const served: (number | string)[] = [];
  await waitFor(
    async () => {
      const r = await v1.account(account);
      served.push(r.status === 200 ? r.body.balance : r.status);
      return r.status === 200 && r.body.balance === 150 ? true : undefined;
    },
    { what: `${account} written back`, timeoutMs: 30_000, intervalMs: 20 },
  );
  const firstRepaired = served.findIndex((answer) => answer !== 100);
  t.notOk(served.slice(firstRepaired).includes(100), `once the loss is found, the older balance is never served again (${served.join(' ')})`);
  t.match(await decided(`${account}-d2`), { status: 'applied', balance: 150 }, 'the lost outcome is back');
  t.ok(Number(await redis.get(keys.written(partition))) > Number(firstOffset), 'and the written marker raised again');
});

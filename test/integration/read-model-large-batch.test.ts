// A batch large enough that its read-model write outnumbers the arguments a
// JavaScript call can take spread (a backlog drained after inserts slowed
// down, say): the writer must still write it, through the consumer's own
// kind of Redis client (auto-pipelined), rather than throw, retry and bring
// the client down with it.
import t from 'tap';
import { Redis } from 'ioredis';
import { ACCOUNT_FIELDS, keys } from '../../common/read-model.js';
import { ReadModelWriter } from '../../consumer/read-model-writer.js';
import { uniq } from '../helpers/http.js';
import { readStack } from '../helpers/stack.js';

const stack = readStack();
// As consumer/main.ts makes it.
const redis = new Redis(stack.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: true, lazyConnect: true });
await redis.connect();
t.teardown(() => redis.disconnect());

t.test('a write of 60,000 accounts in one call lands whole', async (t) => {
  // A partition number no topic has: its markers are this test's alone.
  const partition = 90_000 + Math.floor(Math.random() * 1000);
  const prefix = uniq('bulk');
  const accounts = Array.from({ length: 60_000 }, (_, i) => ({ accountId: `${prefix}-${i}`, account: { balance: i, reserved: 0, updatedAt: 1 }, offset: 7 }));
  t.teardown(async () => {
    for (let i = 0; i < accounts.length; i += 5000) await redis.del(...accounts.slice(i, i + 5000).map((a) => keys.account(a.accountId)));
    await redis.del(keys.ready(partition), keys.written(partition));
  });
  const writer = new ReadModelWriter(redis, 600);
  await writer.apply(partition, accounts, [], [], { expected: -1, record: 7, losses: 0 });
  for (const i of [0, 29_999, 59_999]) {
    t.equal(await redis.hget(keys.account(accounts[i]!.accountId), ACCOUNT_FIELDS.balance), String(i), `account ${i} written`);
  }
  t.equal(await redis.get(keys.written(partition)), '7', 'the written marker raised to the batch');
});

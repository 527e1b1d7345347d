// A partition's read model written back whole after Redis missed or lost
// writes, with the real batch handler and upkeep over one in-memory Redis
// (test/helpers/memory-read-model.ts), as a consumer runs them: a write Redis
// refused is repaired though the ready marker stayed, writes it lost are found
// by the written marker, with reads held until the write-back, and no answer
// is ever ahead of what Redis serves meanwhile.
import t from 'tap';
import type { RawRecord } from '../../consumer/batch-decision.js';
import { PartitionUpkeep } from '../../consumer/partition-upkeep.js';
import { DAY, decideAndInsert, deposits, log, record, TOPIC, World } from '../helpers/batch-world.js';
import { MemoryReadModel } from '../helpers/memory-read-model.js';
import { deposit } from '../helpers/tx.js';

/** A batch handler and an upkeep over one in-memory Redis, as a consumer runs them. */
function consumerOverRedis(world: World, redis: MemoryReadModel) {
  const handler = world.handler(60_000, redis);
  const upkeep = new PartitionUpkeep(
    {
      owners: world.owners,
      admin: {
        fetchTopicOffsets: async () => [{ partition: 0, offset: '0', high: String(world.high), low: '0' }],
        fetchTopicMetadata: async () => ({ topics: [] }),
      },
      readModel: redis,
      snapshots: { save: async () => undefined, warm: async () => undefined, standingBy: false },
      log,
      stopping: () => false,
    },
    { topic: TOPIC, consumerId: 'c1', idWindowMs: DAY, snapshotIntervalMs: 60_000 },
  );
  const decide = async (records: RawRecord[]) => {
    world.high = Number(records.at(-1)!.offset) + 1;
    await decideAndInsert(world, handler, 0, records);
  };
  return { decide, upkeep };
}

t.test('a write Redis refused is written back by the upkeep while the ready marker stays', async (t) => {
  const world = new World();
  const redis = new MemoryReadModel();
  const { decide, upkeep } = consumerOverRedis(world, redis);
  world.owners.assign([0]);
  await decide(deposits(0, 1));
  await upkeep.round();
  t.equal(redis.ready.get(0), 'c1', 'written whole at first');
  t.equal(redis.balance('acc'), 20);

  redis.refusingWrites = true;
  await decide(deposits(2, 2));
  t.equal(redis.balance('acc'), 20, 'Redis at its memory limit: the deposit is not in Redis');
  await upkeep.round();
  t.equal(redis.balance('acc'), 20, 'nor while Redis still refuses writes');
  t.ok(redis.ready.has(0), 'the ready marker stays: nothing Redis holds contradicts an answer given');

  redis.refusingWrites = false;
  await upkeep.round();
  t.equal(redis.balance('acc'), 30, 'written back once Redis takes writes again');
  t.match(redis.outcomes.get('acc/d2'), { status: 'applied', balance: 30 }, 'with the outcome of the refused batch');
  t.equal(redis.registry.get('d2'), 'acc', 'and its id');
  t.equal((await world.owner(0)).readModel.whole, true);
  const sent = redis.accountsSent.length;
  await upkeep.round();
  t.equal(redis.accountsSent.length, sent, 'and not again once whole');
});

t.test('a batch that finds Redis behind what the owner wrote withdraws the ready marker until the upkeep writes it back', async (t) => {
  const world = new World();
  const redis = new MemoryReadModel();
  const { decide, upkeep } = consumerOverRedis(world, redis);
  world.owners.assign([0]);
  await decide(deposits(0, 0));
  await upkeep.round();
  await decide(deposits(1, 1));
  t.equal(redis.written.get(0), 1, 'each batch raises the written marker');

  // Redis restarted from a copy saved before the second deposit: older account, lower marker, ready marker kept.
  redis.accounts.set('acc', { accountId: 'acc', offset: 0, account: { balance: 10, reserved: 0, updatedAt: 1_000 } });
  redis.outcomes.delete('acc/d1');
  redis.written.set(0, 0);
  await decide(deposits(2, 2, 'other'));
  t.notOk(redis.ready.has(0), 'the next batch withdraws the ready marker: reads of the partition wait');
  t.equal(redis.balance('acc'), 10);

  // Lost too: the outcome of the last batch, whose decision memory still holds.
  redis.outcomes.delete('other/d2');
  await upkeep.round();
  t.equal(redis.balance('acc'), 20, 'written back');
  t.ok(redis.outcomes.has('other/d2'), 'with the outcomes memory holds');
  t.notOk(redis.outcomes.has('acc/d1'), 'not one memory let go of: the ledger holds it, and answers for it (api/readmodel.ts)');
  t.ok(redis.ready.has(0), 'the ready marker set again');
  t.equal(redis.written.get(0), 2);
});

t.test('before the write-back, a replay of a decision Redis missed writes its account and outcome with its answer', async (t) => {
  const world = new World();
  const redis = new MemoryReadModel();
  const { decide, upkeep } = consumerOverRedis(world, redis);
  world.owners.assign([0]);
  await decide(deposits(0, 1));
  await upkeep.round();
  redis.refusingWrites = true;
  await decide(deposits(2, 2));
  redis.refusingWrites = false;

  // The caller of d2, answered 202, sends it again: the replay answers the balance Redis missed.
  await decide([record(3, deposit('d2', 'acc', 10))]);
  t.match(redis.announced.at(-1)!.outcome, { id: 'd2', replayed: true, balance: 30 });
  t.equal(redis.balance('acc'), 30, 'Redis serves the balance the replay answered');
  t.match(redis.outcomes.get('acc/d2'), { status: 'applied', balance: 30 }, 'and the outcome, found by its id');
});

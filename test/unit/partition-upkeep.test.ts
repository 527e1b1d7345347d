// The periodic work beside the batches, with Kafka's admin, Redis and the
// snapshot store faked: Redis written back whole once a partition caught up
// and whenever Redis lost some of it, quiet partitions snapshotted only once
// all of it is inserted, and a member standing by warming the snapshots it
// would load.
import t from 'tap';
import { pino } from 'pino';
import { PartitionOwners } from '../../consumer/partition-owners.js';
import { PartitionUpkeep } from '../../consumer/partition-upkeep.js';
import type { PartitionSnapshot } from '../../consumer/partition.js';
import { MemoryReadModel } from '../helpers/memory-read-model.js';
import { deposit } from '../helpers/tx.js';

const DAY = 86_400_000;
const log = pino({ level: 'silent' });

class World {
  readonly redis = new MemoryReadModel();
  readonly saved: number[] = [];
  readonly warmed: number[] = [];
  high = 0;
  standingBy = false;

  readonly owners = new PartitionOwners(
    { snapshots: { load: async () => undefined, assigned: () => undefined }, log },
    { idWindowMs: DAY, snapshotIntervalMs: 0 },
  );

  upkeep(snapshotIntervalMs = 0): PartitionUpkeep {
    const world = this;
    return new PartitionUpkeep(
      {
        owners: this.owners,
        admin: {
          fetchTopicOffsets: async () => [{ partition: 0, offset: '0', high: String(this.high), low: '0' }],
          fetchTopicMetadata: async () => ({
            topics: [{ name: 'teller.tx', partitions: [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 })) }],
          }),
        },
        readModel: this.redis,
        snapshots: {
          save: async (snapshot: PartitionSnapshot) => void this.saved.push(snapshot.offset),
          warm: async (partition) => void this.warmed.push(partition),
          get standingBy() {
            return world.standingBy;
          },
        },
        log,
        stopping: () => false,
      },
      { topic: 'teller.tx', consumerId: 'c1', idWindowMs: DAY, snapshotIntervalMs },
    );
  }

  /** Whether the ready marker was there each time a write-back began. */
  watchWriteBacks(): boolean[] {
    const readyAtBegin: boolean[] = [];
    const begin = this.redis.beginWriteBack.bind(this.redis);
    this.redis.beginWriteBack = (partition) => {
      readyAtBegin.push(this.redis.ready.has(partition));
      return begin(partition);
    };
    return readyAtBegin;
  }
}

const DEPOSITS = ['a', 'b', 'a', 'b'].map((account, offset) => deposit(`d${offset}`, account, 5));

/** Loads partition 0's owner and applies deposits into two accounts at offsets 0..3, the first batch after the load. */
async function ownerWithState(world: World) {
  world.owners.assign([0]);
  const owner = await world.owners.get(0)!;
  owner.place(0);
  DEPOSITS.forEach((message, offset) => owner.ledger.apply(message, offset));
  owner.decided(3, 4);
  return owner;
}

/** Loads partition 0's owner where an earlier owner had committed offset 4: the deposits only rebuild its state. */
async function ownerTakingOver(world: World) {
  world.owners.assign([0]);
  const owner = await world.owners.get(0)!;
  owner.place(4);
  owner.place(0);
  DEPOSITS.forEach((message, offset) => owner.ledger.apply(message, offset));
  owner.decided(3, 4);
  world.high = 4;
  return owner;
}

t.test('Redis is written back whole once the partition caught up, and not again while it holds all of it', async (t) => {
  const world = new World();
  const upkeep = world.upkeep();
  const owner = await ownerWithState(world);
  await upkeep.round();
  t.same(world.redis.accountsSent.sort(), ['a', 'b'], 'every account');
  t.same([...world.redis.outcomes.keys()].sort(), ['a/d0', 'a/d2', 'b/d1', 'b/d3'], 'every remembered decision');
  t.equal(world.redis.ready.get(0), 'c1', 'then the readiness marker');
  t.equal(world.redis.written.get(0), 3, 'and the written marker');
  t.equal(owner.readModel.whole, true);

  await upkeep.round();
  t.equal(world.redis.accountsSent.length, 2, 'Redis holds it all: nothing written again');

  world.redis.ready.clear();
  world.redis.written.clear();
  world.redis.accounts.clear();
  await upkeep.round();
  t.equal(world.redis.accountsSent.length, 4, 'Redis restarted empty: written again');
  t.equal(world.redis.balance('a'), 10);
  t.equal(owner.readModel.whole, true);
});

t.test('a quiet partition that Redis lost writes of, its ready marker still there, is written back with reads held meanwhile', async (t) => {
  const world = new World();
  const upkeep = world.upkeep();
  const readyAtBegin = world.watchWriteBacks();
  const owner = await ownerWithState(world);
  await upkeep.round();

  // Redis restarted from a copy saved after the first two deposits: older account, lower marker.
  world.redis.accounts.set('a', { accountId: 'a', offset: 0, account: { balance: 5, reserved: 0, updatedAt: 1_000 } });
  world.redis.outcomes.delete('a/d2');
  world.redis.written.set(0, 1);
  await upkeep.round();
  t.same(readyAtBegin, [false, false], 'the ready marker was withdrawn before the write-back');
  t.equal(world.redis.balance('a'), 10, 'the account written back');
  t.ok(world.redis.outcomes.has('a/d2'), 'and the outcome');
  t.ok(world.redis.ready.has(0), 'then the ready marker set again');
  t.equal(world.redis.written.get(0), 3);
  t.equal(owner.readModel.whole, true);
});

t.test('an owner taking the partition over trusts Redis only if it holds what the earlier owner wrote', async (t) => {
  const trusting = new World();
  trusting.redis.ready.set(0, 'c0');
  trusting.redis.written.set(0, 3);
  const trusted = await ownerTakingOver(trusting);
  await trusting.upkeep().round();
  t.same(trusting.redis.accountsSent, [], 'Redis holds everything before the committed offset: nothing written back');
  t.equal(trusted.readModel.whole, true);

  const doubting = new World();
  const readyAtBegin = doubting.watchWriteBacks();
  doubting.redis.ready.set(0, 'c0');
  doubting.redis.written.set(0, 2);
  const doubted = await ownerTakingOver(doubting);
  await doubting.upkeep().round();
  t.same(readyAtBegin, [false], 'the earlier owner missed writes: reads wait');
  t.same(doubting.redis.accountsSent.sort(), ['a', 'b'], 'and the partition is written back');
  t.equal(doubted.readModel.whole, true);
});

t.test('a partition behind its log is not written back yet', async (t) => {
  const world = new World();
  const upkeep = world.upkeep();
  world.owners.assign([0]);
  const owner = await world.owners.get(0)!;
  owner.place(10);
  world.high = 20;
  await upkeep.round();
  t.same(world.redis.accountsSent, []);
  t.notOk(world.redis.ready.has(0));
});

t.test('a quiet partition is snapshotted once everything it decided is inserted', async (t) => {
  const world = new World();
  const upkeep = world.upkeep();
  const owner = await ownerWithState(world);
  world.redis.ready.set(0, 'c0');
  await upkeep.round();
  t.same(world.saved, [], 'its documents are not inserted yet');
  owner.inserted(4);
  await upkeep.round();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(world.saved, [4], 'snapshotted at its state');
  await upkeep.round();
  t.equal(world.saved.length, 1, 'and not again while nothing was applied');
});

t.test('a member standing by warms every partition, a third of the snapshot interval apart', async (t) => {
  const world = new World();
  const upkeep = world.upkeep(60_000);
  await upkeep.round();
  t.same(world.warmed, [], 'not while it owns partitions (or is not standing by)');
  world.standingBy = true;
  await upkeep.round();
  t.same(world.warmed, [0, 1, 2]);
  await upkeep.round();
  t.same(world.warmed, [0, 1, 2], 'not again within the interval');
});

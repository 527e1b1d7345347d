// The periodic work beside the batches, with Kafka's admin, Redis and the
// snapshot store faked: Redis written back whole once a partition caught up,
// quiet partitions snapshotted only once all of them is inserted, and a
// member standing by warming the snapshots it would load.
import t from 'tap';
import { pino } from 'pino';
import type { Outcome } from '../../common/types.js';
import { PartitionOwners } from '../../consumer/partition-owners.js';
import { PartitionUpkeep } from '../../consumer/partition-upkeep.js';
import type { PartitionSnapshot } from '../../consumer/partition.js';
import { deposit } from '../helpers/tx.js';

const DAY = 86_400_000;
const log = pino({ level: 'silent' });

class World {
  readonly ready = new Set<number>();
  readonly accountsWritten: string[] = [];
  readonly outcomesWritten: Outcome[] = [];
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
        readModel: {
          apply: async (_partition, accounts) => {
            for (const account of accounts) this.accountsWritten.push(account.accountId);
            return this.ready.has(_partition);
          },
          restoreOutcomes: async (outcomes) => void this.outcomesWritten.push(...outcomes),
          isReady: async (partition) => this.ready.has(partition),
          markReady: async (partition) => void this.ready.add(partition),
        },
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
}

/** Loads partition 0's owner and applies deposits into two accounts at offsets 0..3, the first batch after the load. */
async function ownerWithState(world: World) {
  world.owners.assign([0]);
  const owner = await world.owners.get(0)!;
  owner.place(0);
  ['a', 'b', 'a', 'b'].forEach((account, offset) => owner.ledger.apply(deposit(`d${offset}`, account, 5), offset));
  owner.decided(3, 4);
  return owner;
}

t.test('Redis is written back whole once the partition caught up, and not again while its marker stays', async (t) => {
  const world = new World();
  const upkeep = world.upkeep();
  const owner = await ownerWithState(world);
  await upkeep.round();
  t.same(world.accountsWritten.sort(), ['a', 'b'], 'every account');
  t.same(world.outcomesWritten.map((o) => o.id).sort(), ['d0', 'd1', 'd2', 'd3'], 'every remembered decision');
  t.ok(world.ready.has(0), 'then the readiness marker');
  t.equal(owner.readModelWhole, true);

  await upkeep.round();
  t.equal(world.accountsWritten.length, 2, 'the marker is there: nothing written again');

  world.ready.clear();
  owner.readModelPartial();
  await upkeep.round();
  t.equal(world.accountsWritten.length, 4, 'Redis restarted empty: written again');
  t.equal(owner.readModelWhole, true);
});

t.test('a partition behind its log is not written back yet', async (t) => {
  const world = new World();
  const upkeep = world.upkeep();
  world.owners.assign([0]);
  const owner = await world.owners.get(0)!;
  owner.place(10);
  world.high = 20;
  await upkeep.round();
  t.same(world.accountsWritten, []);
  t.notOk(world.ready.has(0));
});

t.test('a quiet partition is snapshotted once everything it decided is inserted', async (t) => {
  const world = new World();
  const upkeep = world.upkeep();
  const owner = await ownerWithState(world);
  world.ready.add(0);
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

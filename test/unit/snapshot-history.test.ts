// The snapshots a replay may start from (consumer/snapshots.ts, docs/explanations.md):
// the newest complete one at or before an offset, and the oldest complete one
// at or after the log's first record; a delta counts with its chain whole, a
// snapshot cut short or pruned does not.
import t from 'tap';
import { PartitionLedger, type PartitionSnapshot } from '../../consumer/partition.js';
import { SnapshotStore, snapshotCollectionName } from '../../consumer/snapshots.js';
import { DAY, memoryDb } from '../helpers/snapshot-fixtures.js';
import { deposit } from '../helpers/tx.js';

const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Saves a whole snapshot at 2, a delta over it at 4, a whole one at 6; returns the states at those offsets. */
async function saved(store: SnapshotStore): Promise<Map<number, PartitionSnapshot>> {
  const p = new PartitionLedger(0, DAY);
  const states = new Map<number, PartitionSnapshot>();
  for (let offset = 0; offset < 6; offset++) {
    p.apply(deposit(`d${offset}`, offset % 2 === 0 ? 'acc' : 'other', 10 + offset, { receivedAt: 1_000 + offset }), offset);
    const next = offset + 1;
    if (next % 2 !== 0) continue;
    const whole = next !== 4;
    await store.save(p.takeSnapshot(next, whole), whole ? undefined : 2);
    states.set(next, json(p.snapshot(next)));
  }
  return states;
}

t.test('the newest complete snapshot at or before an offset', async (t) => {
  const { db } = memoryDb();
  const store = new SnapshotStore(db, 10, DAY);
  const states = await saved(store);
  t.equal(await store.loadAtOrBefore(0, 1), undefined, 'none so old');
  t.strictSame(json(await store.loadAtOrBefore(0, 2)), states.get(2), 'one at the offset itself');
  t.strictSame(json(await store.loadAtOrBefore(0, 5)), states.get(4), 'a delta, laid over its base');
  t.strictSame(json(await store.loadAtOrBefore(0, 100)), states.get(6));
  t.equal(await store.loadAtOrBefore(1, 100), undefined, 'another partition has none');
});

t.test('the oldest complete snapshot at or after an offset', async (t) => {
  const { db } = memoryDb();
  const store = new SnapshotStore(db, 10, DAY);
  const states = await saved(store);
  t.strictSame(json(await store.loadOldestFrom(0, 0)), states.get(2));
  t.strictSame(json(await store.loadOldestFrom(0, 3)), states.get(4));
  t.equal(await store.loadOldestFrom(0, 7), undefined, 'none so new');
});

t.test('a snapshot cut short, or a delta whose base is gone, is passed over', async (t) => {
  const { db, collections } = memoryDb();
  const store = new SnapshotStore(db, 10, DAY);
  const states = await saved(store);
  collections.get(snapshotCollectionName(0, 6))!.delete('meta');
  t.strictSame(json(await store.loadAtOrBefore(0, 100)), states.get(4), 'the one before the incomplete one');
  collections.delete(snapshotCollectionName(0, 2));
  t.equal(await store.loadAtOrBefore(0, 100), undefined, 'the delta at 4 lies over nothing now');
  t.equal(await store.loadOldestFrom(0, 0), undefined);
});

// A partition owner's snapshot schedule: owners loaded together spread their
// snapshots over the interval instead of falling due in the same second, and
// which snapshots are deltas and which are whole.
import t from 'tap';
import { PartitionOwner, SNAPSHOT_SLOTS } from '../../consumer/owner.js';
import { PartitionLedger } from '../../consumer/partition.js';

const DAY = 24 * 3600 * 1000;
const INTERVAL = 30_000;

t.test('owners loaded together fall due at different times, one interval apart afterwards', async (t) => {
  const loadedAt = Date.now();
  const loaded = (p: number) => {
    const owner = new PartitionOwner(new PartitionLedger(p, DAY), 0);
    owner.lastSnapshotAt = loadedAt;
    owner.staggerSnapshots(INTERVAL);
    owner.appliedSinceSnapshot = 1;
    return owner;
  };
  const owners = Array.from({ length: SNAPSHOT_SLOTS }, (_, p) => loaded(p));
  const firstDue = owners.map((o) => o.lastSnapshotAt + INTERVAL - loadedAt);
  t.equal(new Set(firstDue).size, SNAPSHOT_SLOTS, 'every partition has its own slot');
  t.ok(
    firstDue.every((d) => d > 0 && d <= INTERVAL),
    'each first snapshot falls due within one interval of the load',
  );
  t.equal(firstDue[0], INTERVAL, 'partition 0 waits the whole interval');
  t.equal(firstDue[6], INTERVAL / 2, 'partition 6 half of it');
  t.equal(loaded(SNAPSHOT_SLOTS + 3).lastSnapshotAt, owners[3]!.lastSnapshotAt, 'partitions beyond the slots share them');

  // Half an interval (and a little) after the load.
  for (const o of owners) o.lastSnapshotAt -= INTERVAL / 2 + (Date.now() - loadedAt) + 1;
  const sixth = owners[6]!;
  t.notOk(owners[0]!.snapshotDue(INTERVAL), 'partition 0 is not due half an interval after the load');
  t.ok(sixth.snapshotDue(INTERVAL), 'partition 6 is');
  sixth.snapshotDone(sixth.takeSnapshot(), true);
  t.notOk(sixth.snapshotDue(INTERVAL), 'after its save the next one is a whole interval away');
});

t.test('snapshots: deltas over the last one saved, and a whole one after a failed save or a resume', async (t) => {
  const owner = PartitionOwner.fromSnapshot(2, undefined, DAY);
  const take = (saved = true) => {
    const taken = owner.takeSnapshot();
    owner.snapshotDone(taken, saved);
    return taken.base;
  };
  owner.nextOffset = 10;
  t.equal(take(), undefined, 'the first is whole');
  owner.nextOffset = 20;
  t.equal(take(), 10, 'then a delta over it');
  owner.nextOffset = 30;
  t.equal(take(false), 20, 'a delta that fails to save');
  owner.nextOffset = 40;
  t.equal(take(), undefined, 'is followed by a whole one');
  owner.nextOffset = 50;
  t.equal(take(), 40, 'and deltas again');

  owner.positioned = true;
  owner.resume();
  t.equal(owner.positioned, false, 'resumed: it is sent back to its state, as a loaded owner is');
  t.equal(owner.nextOffset, 50, 'its state stays where it was');
  owner.nextOffset = 60;
  t.equal(take(), undefined, 'resumed: the next snapshot is whole (another member may have pruned its base)');
  owner.nextOffset = 70;
  t.equal(take(), 60, 'then deltas over it');
});

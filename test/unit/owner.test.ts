// A partition owner: where a batch stands against its state (positioning after
// a load or a resume, skips, gaps, batches that only rebuild the state), and
// its snapshot schedule: owners loaded together spread their snapshots over
// the interval instead of falling due in the same second, and which snapshots
// are deltas and which are whole.
import t from 'tap';
import { PartitionOwner, SNAPSHOT_SLOTS } from '../../consumer/owner.js';
import { PartitionLedger } from '../../consumer/partition.js';

const DAY = 24 * 3600 * 1000;
const INTERVAL = 30_000;

/** Moves the owner's state to `nextOffset` as a decided batch does. */
const advanceTo = (owner: PartitionOwner, nextOffset: number) => owner.decided(nextOffset - 1, 1);

t.test('owners loaded together fall due at different times, one interval apart afterwards', async (t) => {
  const loadedAt = Date.now();
  let now = loadedAt;
  const loaded = (p: number) => {
    const owner = new PartitionOwner(new PartitionLedger(p, DAY), 0, () => now);
    owner.staggerSnapshots(INTERVAL);
    advanceTo(owner, 1);
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
  now = loadedAt + INTERVAL / 2 + 1;
  const sixth = owners[6]!;
  t.notOk(owners[0]!.snapshotDue(INTERVAL), 'partition 0 is not due half an interval after the load');
  t.ok(sixth.snapshotDue(INTERVAL), 'partition 6 is');
  sixth.snapshotDone(sixth.takeSnapshot(), true);
  advanceTo(sixth, 2);
  t.notOk(sixth.snapshotDue(INTERVAL), 'after its save the next one is a whole interval away');
  now += INTERVAL;
  t.ok(sixth.snapshotDue(INTERVAL), 'and due again a whole interval later');
});

t.test('no snapshot falls due while nothing was applied since the last one', async (t) => {
  let now = Date.now();
  const owner = new PartitionOwner(new PartitionLedger(1, DAY), 0, () => now);
  now += 2 * INTERVAL;
  t.notOk(owner.snapshotDue(INTERVAL), 'nothing applied');
  owner.decided(4, 0);
  t.notOk(owner.snapshotDue(INTERVAL), 'a batch of dead letters applies nothing');
  owner.decided(5, 1);
  t.ok(owner.snapshotDue(INTERVAL), 'one applied record');
  const taken = owner.takeSnapshot();
  t.notOk(owner.snapshotDue(INTERVAL), 'not while one is being saved');
  owner.snapshotDone(taken, false);
  advanceTo(owner, 7);
  t.notOk(owner.snapshotDue(INTERVAL), 'a failed save waits a whole interval too');
  now += INTERVAL;
  t.ok(owner.snapshotDue(INTERVAL), 'then the next is due');
});

t.test('snapshots: deltas over the last one saved, and a whole one after a failed save or a resume', async (t) => {
  const owner = PartitionOwner.fromSnapshot(2, undefined, DAY);
  const take = (saved = true) => {
    const taken = owner.takeSnapshot();
    owner.snapshotDone(taken, saved);
    return taken.base;
  };
  advanceTo(owner, 10);
  t.equal(take(), undefined, 'the first is whole');
  advanceTo(owner, 20);
  t.equal(take(), 10, 'then a delta over it');
  advanceTo(owner, 30);
  t.equal(take(false), 20, 'a delta that fails to save');
  advanceTo(owner, 40);
  t.equal(take(), undefined, 'is followed by a whole one');
  advanceTo(owner, 50);
  t.equal(take(), 40, 'and deltas again');

  owner.place(owner.nextOffset);
  t.equal(owner.positioned, true, 'positioned by its first batch');
  owner.resume();
  t.equal(owner.positioned, false, 'resumed: it is sent back to its state, as a loaded owner is');
  t.equal(owner.nextOffset, 50, 'its state stays where it was');
  advanceTo(owner, 60);
  t.equal(take(), undefined, 'resumed: the next snapshot is whole (another member may have pruned its base)');
  advanceTo(owner, 70);
  t.equal(take(), 60, 'then deltas over it');
});

/** An owner whose state stands at `offset`, as loaded from a snapshot there. */
const ownerAt = (offset: number) => new PartitionOwner(new PartitionLedger(0, DAY), offset);

t.test('place: the first batch after a load at the state offset is applied', async (t) => {
  const owner = ownerAt(100);
  t.same(owner.place(100), { action: 'apply' });
  t.equal(owner.positioned, true);
  t.equal(owner.writtenBefore, 100, 'its first offset is the committed one');
  t.equal(owner.decided(119, 20), 'to write');
  t.equal(owner.nextOffset, 120);
  t.same(owner.place(120), { action: 'apply' }, 'the next batch follows on');
});

t.test('place: a first batch elsewhere sends the consumer to the state, once', async (t) => {
  const owner = ownerAt(100);
  t.same(owner.place(150), { action: 'seek', offset: 100 }, 'committed ahead of the snapshot: back to the snapshot');
  t.equal(owner.writtenBefore, 150, 'what lies before the committed offset is written');
  t.equal(owner.nextOffset, 100, 'the state has not moved');

  t.same(owner.place(100), { action: 'apply' }, 'the replay from the snapshot is applied');
  t.equal(owner.decided(139, 40), 'already written', 'a batch wholly before the committed offset rebuilds state only');
  t.equal(owner.insertedBefore, 140, 'and counts as inserted');
  t.ok(owner.allInserted);
  t.equal(owner.decided(159, 20), 'to write', 'a batch reaching past the committed offset has documents to write');
  t.equal(owner.insertedBefore, 140, 'not inserted until the writer says so');
  t.notOk(owner.allInserted);
  owner.inserted(160);
  t.ok(owner.allInserted, 'inserted up to the state');

  const behind = ownerAt(100);
  t.same(behind.place(80), { action: 'seek', offset: 100 }, 'committed behind the snapshot (inserts were in flight): forward to it');
  t.equal(behind.writtenBefore, 80);
});

t.test('place: records the state holds already are skipped, a gap is applied', async (t) => {
  const owner = ownerAt(100);
  owner.place(100);
  owner.decided(109, 10);
  t.same(owner.place(105), { action: 'skip', offset: 110 }, 'a batch fetched again: skip to the state');
  t.equal(owner.nextOffset, 110, 'a skip moves nothing');
  t.same(owner.place(130), { action: 'gap', expected: 110 }, 'records gone from the log: a gap');
  owner.decided(139, 10);
  t.equal(owner.nextOffset, 140, 'decided from the first record present');
});

t.test('place: after a resume the first batch positions again', async (t) => {
  const owner = ownerAt(100);
  owner.place(100);
  owner.decided(109, 10);
  owner.resume();
  t.same(owner.place(200), { action: 'seek', offset: 110 }, 'another member applied the partition meanwhile: back to the state');
  t.equal(owner.writtenBefore, 200);
  t.same(owner.place(110), { action: 'apply' });
  t.equal(owner.decided(199, 90), 'already written', 'what the other member wrote rebuilds state only');
});

t.test('caught up: nothing left in the log, or past what was written before it took over', async (t) => {
  const owner = ownerAt(100);
  t.ok(owner.caughtUp(100), 'at the high watermark');
  t.notOk(owner.caughtUp(150), 'behind it, not positioned yet');
  owner.place(120);
  t.notOk(owner.caughtUp(150), 'behind what was written before it took over');
  owner.place(100);
  owner.decided(119, 20);
  t.ok(owner.caughtUp(150), 'past what was written before it took over');
});

t.test('read model: known whole only once Redis holds what earlier owners wrote', async (t) => {
  const owner = ownerAt(100);
  t.equal(owner.readModel.whole, false, 'not known whole after a load');
  t.same(owner.readModelMark(), { expected: 99, record: -1, losses: 0 }, 'before positioning: what the snapshot covers');
  owner.place(120);
  owner.place(100);
  owner.decided(124, 25);
  const first = owner.readModelMark(124);
  t.same(first, { expected: 119, record: 124, losses: 0 }, 'positioned: what was written before it took over');
  owner.readModel.answered(first, 'missing');
  t.equal(owner.readModel.whole, false, 'no ready marker: to be written back');
  t.same(owner.readModelMark(130), { expected: -1, record: -1, losses: 1 }, 'while missed it expects only what it recorded, and records nothing');
});

t.test('read model: whole after its first write finds Redis holding what came before', async (t) => {
  const owner = ownerAt(0);
  owner.place(0);
  owner.decided(9, 10);
  const mark = owner.readModelMark(9);
  owner.readModel.answered(mark, 'whole');
  t.equal(owner.readModel.whole, true);
  t.same(owner.readModelMark(19), { expected: 9, record: 19, losses: 0 }, 'each write expects what the last one recorded');
});

t.test('read model: a failed write or lost writes call for a write-back, which a later loss voids', async (t) => {
  const owner = ownerAt(0);
  owner.place(0);
  owner.readModel.answered(owner.readModelMark(9), 'whole');
  owner.readModel.failed();
  t.equal(owner.readModel.whole, false, 'a failed write');
  const losses = owner.readModel.losses;
  owner.readModel.answered(owner.readModelMark(19), 'missing');
  t.equal(owner.readModel.losses, losses, 'a write finding no ready marker during a write-back is no new loss');
  owner.readModel.writtenBack(losses, 29, 'whole');
  t.equal(owner.readModel.whole, true, 'written back');
  t.same(owner.readModelMark(39), { expected: 29, record: 39, losses }, 'Redis must now hold the write-back');

  owner.readModel.answered(owner.readModelMark(49), 'behind');
  t.equal(owner.readModel.whole, false, 'Redis lost writes');
  const before = owner.readModel.losses;
  owner.readModel.failed();
  owner.readModel.writtenBack(before, 59, 'whole');
  t.equal(owner.readModel.whole, false, 'a write failed during the write-back: written back again');
  owner.readModel.writtenBack(owner.readModel.losses, 59, 'behind');
  t.equal(owner.readModel.whole, false, 'Redis lost writes during the write-back');
});

t.test('read model: given the partition again, whole only if the other member wrote it all', async (t) => {
  const owner = ownerAt(0);
  owner.place(0);
  owner.decided(9, 10);
  owner.readModel.answered(owner.readModelMark(9), 'whole');
  owner.resume();
  t.equal(owner.readModel.whole, false);
  owner.place(200);
  t.same(owner.readModelMark(), { expected: 199, record: -1, losses: 0 }, 'Redis must hold what the other member wrote');
});

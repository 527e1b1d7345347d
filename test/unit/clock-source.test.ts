// A partition's clock source (docs/ledger-rules.md, The log clock): the api
// replicas' `receivedAt` until the first clock marker in the log, the records'
// timestamps (the broker's append time) from the record after it on. The
// switch is part of the state and of its snapshot, and the batch path passes
// each record's timestamp through.
import t from 'tap';
import { encodeMessage } from '../../common/message.js';
import type { ClockMessage, LogMessage } from '../../common/types.js';
import { decideBatch, lookupsOf, parseRecords, recordTimestamp, type RawRecord } from '../../consumer/batch-decision.js';
import { PartitionLedger, type PartitionSnapshot } from '../../consumer/partition.js';
import { deposit, request, tick } from '../helpers/tx.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';

const DAY = 86_400_000;
/** A replica whose clock jumped a year ahead. */
const YEAR_AHEAD = 1_000_000 + 365 * DAY;
const marker = (receivedAt = 1_000): ClockMessage => ({ v: 1, type: 'clock', source: 'log-append-time', receivedAt });
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

t.test("before the marker a replica's far-future receivedAt moves the clock for good; after it, it does not", async (t) => {
  const before = new PartitionLedger(0, DAY);
  before.apply(deposit('d1', 'acc', 100, { receivedAt: 1_000_000 }), 0, 1_000_000);
  before.apply(deposit('d2', 'acc', 100, { receivedAt: YEAR_AHEAD }), 1, 1_000_050);
  t.equal(before.clock, YEAR_AHEAD, 'by receivedAt, the jump is the clock');
  before.apply(deposit('d3', 'acc', 100, { receivedAt: 1_000_100 }), 2, 1_000_100);
  t.equal(before.clock, YEAR_AHEAD, 'and it never comes back');
  t.equal(before.clockSource, 'receivedAt');

  const after = new PartitionLedger(0, DAY);
  after.apply(deposit('d1', 'acc', 100, { receivedAt: 1_000_000 }), 0, 1_000_000);
  after.apply(marker(), 1, 1_000_010);
  after.apply(deposit('d2', 'acc', 100, { receivedAt: YEAR_AHEAD }), 2, 1_000_050);
  t.equal(after.clockSource, 'log-append-time');
  t.equal(after.clock, 1_000_050, "by the broker's clock, the replica's jump changes nothing");
});

t.test("the marker itself does not move the clock; the next record's timestamp does, and the clock never goes back", async (t) => {
  const p = new PartitionLedger(0, DAY);
  p.apply(deposit('d1', 'acc', 100, { receivedAt: 5_000 }), 0, 4_000);
  t.equal(p.clock, 5_000);
  const step = p.apply(marker(9_000), 1, 8_000);
  t.same([p.clock, p.clockSource, step.outcome, step.docs], [5_000, 'log-append-time', undefined, []], 'switched, nothing decided, clock unmoved');
  p.apply(deposit('d2', 'acc', 1, { receivedAt: 6_000 }), 2, 4_500);
  t.equal(p.clock, 5_000, 'a broker behind the replicas: the clock waits for it, never goes back');
  p.apply(deposit('d3', 'acc', 1, { receivedAt: 6_000 }), 3, 7_000);
  t.equal(p.clock, 7_000, "the broker's time");
  p.apply(deposit('d4', 'acc', 1, { receivedAt: 9_000 }), 4, 6_500);
  t.equal(p.clock, 7_000, 'a new leader whose clock is behind does not take it back');
  p.apply(deposit('d5', 'acc', 1, { receivedAt: 9_000 }), 5);
  t.equal(p.clock, 7_000, 'a record without a timestamp leaves it');
  p.apply(marker(), 6, 50_000);
  t.same([p.clock, p.clockSource], [7_000, 'log-append-time'], 'a second marker changes nothing');
});

t.test("under the broker's clock a tick moves the clock by its timestamp, not its receivedAt", async (t) => {
  const p = new PartitionLedger(0, DAY);
  p.apply(marker(), 0, 1_000);
  p.apply(deposit('d', 'acc', 100), 1, 1_000);
  p.apply(request('r', 'acc', 30, { expiresInSeconds: 5 }), 2, 2_000);
  let step = p.apply(tick(YEAR_AHEAD), 3, 6_999);
  t.same([p.clock, step.docs], [6_999, []], "a tick from a consumer far ahead: its receivedAt means nothing, and the hold is not due");
  step = p.apply(tick(0), 4, 7_000);
  t.same(
    step.docs.map((d) => [d.type, d.requestId, d.offset]),
    [['expire', 'r', 4]],
    'the hold lapses by the tick\'s timestamp',
  );
});

t.test("under the broker's clock a hold lapses its time to live after its decision; without one, at its expiresAt", async (t) => {
  const p = new PartitionLedger(0, DAY);
  p.apply(marker(), 0, 10_000);
  p.apply(deposit('d', 'acc', 100), 1, 10_000);
  // The replica's clock says the call came a year ahead: its expiresAt is a year away.
  p.apply(request('ttl', 'acc', 10, { receivedAt: YEAR_AHEAD, expiresAt: YEAR_AHEAD + 60_000, expiresInSeconds: 60 }), 2, 20_000);
  p.apply(request('old', 'acc', 10, { receivedAt: 20_000, expiresAt: 50_000 }), 3, 20_000);
  t.same(
    p.account('acc')?.holds.map((h) => [h.id, h.expiresAt]),
    [
      ['ttl', 80_000],
      ['old', 50_000],
    ],
    'decision time (20,000) + 60 s; a message without expiresInSeconds keeps its expiresAt',
  );
  t.equal(p.apply(tick(0), 4, 50_000).docs.map((d) => d.requestId).join(), 'old');
  t.equal(p.apply(tick(0), 5, 80_000).docs.map((d) => d.requestId).join(), 'ttl', 'the other lapses by the partition clock, not a year later');

  const byReceivedAt = new PartitionLedger(0, DAY);
  byReceivedAt.apply(deposit('d', 'acc', 100, { receivedAt: 10_000 }), 0, 10_000);
  byReceivedAt.apply(request('ttl', 'acc', 10, { receivedAt: 20_000, expiresAt: 99_000, expiresInSeconds: 60 }), 1, 20_000);
  t.equal(byReceivedAt.account('acc')?.holds[0]?.expiresAt, 99_000, 'before any marker, the api\'s expiresAt as before');
});

t.test('the source is part of the snapshot: absent means receivedAt, so older snapshots restore as they were', async (t) => {
  const p = new PartitionLedger(0, DAY);
  p.apply(deposit('d', 'acc', 100, { receivedAt: 3_000 }), 0, 1_000);
  const older = json(p.snapshot(1));
  t.notOk('clockSource' in older, 'a partition on receivedAt snapshots as before');
  p.apply(marker(), 1, 2_000);
  const newer: PartitionSnapshot = json(p.snapshot(2));
  t.equal(newer.clockSource, 'log-append-time');
  t.equal(json(p.takeSnapshot(2, false)).clockSource, 'log-append-time', 'a delta carries it too');

  const restoredOlder = PartitionLedger.restore(older, DAY);
  restoredOlder.apply(deposit('x', 'acc', 1, { receivedAt: 9_000 }), 1, 4_000);
  t.same([restoredOlder.clockSource, restoredOlder.clock], ['receivedAt', 9_000]);
  const restoredNewer = PartitionLedger.restore(newer, DAY);
  restoredNewer.apply(deposit('x', 'acc', 1, { receivedAt: 9_000 }), 2, 4_000);
  t.same([restoredNewer.clockSource, restoredNewer.clock], ['log-append-time', 4_000]);
});

t.test("the batch path passes each record's timestamp (kafkajs gives a string of ms)", async (t) => {
  const record = (offset: number, msg: LogMessage, timestamp?: string): RawRecord => {
    const r: RawRecord = { offset: String(offset), key: null, value: encodeMessage(msg) };
    if (timestamp !== undefined) r.timestamp = timestamp;
    return r;
  };
  const p = new PartitionLedger(3, DAY);
  const batch = parseRecords([
    record(0, marker(), '1700000000000'),
    record(1, deposit('d', 'acc', 5, { receivedAt: YEAR_AHEAD, replyTo: 'api-1', callId: 'c.1' }), '1700000000123'),
  ]);
  const decision = decideBatch(p, batch, 0, new MemoryLedger().lookUp(3, lookupsOf(p, batch)));
  t.equal(p.clock, 1_700_000_000_123, "the deposit's append time is the clock");
  t.equal(decision.announced.length, 1, 'the deposit is announced; the marker is not');
  t.equal(decision.deadLetters.length, 0, 'nothing dead-lettered: a marker is a valid message');
  t.same(
    ['12', '-1', undefined, '', 'x', '1.5', '99999999999999999'].map((timestamp) => recordTimestamp({ timestamp })),
    [12, -1, undefined, undefined, undefined, undefined, undefined],
    'strings of integers read as numbers; none, or one that is no integer, as none',
  );
});

t.test('the ids a batch looks up are those of the clock it reaches, by the source its clock markers set', async (t) => {
  const db = new MemoryLedger();
  const p = new PartitionLedger(0, DAY);
  db.apply(p, deposit('d', 'acc', 100), 0, 1_000);
  db.apply(p, request('r', 'acc', 30, { expiresAt: 6_000 }), 1, 1_000);
  // Both documents are in the ledger: memory lets go of the request's decision.
  p.durableBefore(2);
  // One batch: a marker, then a tick the broker stamped past the hold's lapse while the replicas' clocks are not.
  const steps = db.decide(p, [marker(), tick(1_500)], 2, [1_500, 7_000]);
  t.equal(p.clock, 7_000);
  t.same(
    steps[1]!.changed.map((o) => [o.id, o.status]),
    [['r', 'expired']],
    'the lapsing request was read back from the ledger, and its repeats now answer expired',
  );
});

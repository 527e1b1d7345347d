// The batch path publishes the events of the ledger documents it writes before
// it commits the batch (consumer/partition-batch.ts, docs/events.md): only
// for the records the batch writes, retried until the broker takes them with
// nothing committed meanwhile, and again, under the same ids, when the batch
// is decided again after a crash.
import t from 'tap';
import type { LedgerDoc } from '../../common/types.js';
import { decideAndInsert, deposits, payload, record, settle, World } from '../helpers/batch-world.js';
import { request, tick, transfer } from '../helpers/tx.js';

const idsOf = (docs: readonly { _id: string }[]) => docs.map((doc) => doc._id);
const eventIds = (world: World) => world.ledgerEvents.map((event) => event.eventId);
const written = (world: World): LedgerDoc[] => world.writes.flatMap((write) => write.docs);

function eventsWorld(): World {
  const world = new World();
  world.eventsEnabled = true;
  return world;
}

t.test("a batch's events are published after the answers and before its commit, one per document it writes", async (t) => {
  const world = eventsWorld();
  const handler = world.handler();
  world.owners.assign([4]);
  await decideAndInsert(world, handler, 4, [
    ...deposits(0, 1, 'acc'),
    record(2, request('r', 'acc', 5, { expiresAt: 3_000 })),
    record(3, transfer('t', 'acc', 'other', 7)),
    record(4, tick(4_000)),
  ]);
  t.same(world.events, ['dead letters 0 to teller.tx', 'minted 1', 'read model', 'write 5', 'events 5', 'commit 5'], 'published before the commit');
  t.same(eventIds(world), idsOf(written(world)), "the events' ids are the documents' _ids, in log order");
  t.same(
    world.ledgerEvents.map((event) => [event.type, event.balance, event.reserved]),
    [
      ['deposit.applied', 10, 0],
      ['deposit.applied', 20, 0],
      ['withdrawal_request.approved', 20, 5],
      ['transfer.debited', 13, 5],
      ['hold.lapsed', 13, 0],
    ],
    'each with the balances after it',
  );
  t.ok(world.ledgerEvents.every((event) => event.accountId === 'acc' && event.partition === 4));
});

t.test('only the records the batch writes: those before the committed offset were published by the owner that wrote them', async (t) => {
  const world = eventsWorld();
  const handler = world.handler();
  world.owners.assign([1]);
  // The group committed 5; this owner's state stands at 0: it is sent back, rebuilds 0..4, writes 5..6.
  await handler.handle(payload(1, deposits(5, 6)).batch);
  await decideAndInsert(world, handler, 1, deposits(0, 6));
  t.same(world.ledgerEvents.map((event) => event.offset), [5, 6], 'the events of the records it writes only');
  t.same(world.ledgerEvents.map((event) => event.balance), [60, 70], 'over the rebuilt state');
  t.same(world.commits, [[1, 7]]);
});

t.test('a failing publish is retried, and nothing is committed nor snapshotted until it succeeds', async (t) => {
  const world = eventsWorld();
  const handler = world.handler(0);
  world.owners.assign([0]);
  world.eventFailures = 2;
  const handled = handler.handle(payload(0, deposits(0, 2)).batch);
  await settle();
  world.writes[0]!.done.resolve();
  await settle();
  t.same([world.commits, world.saved, world.ledgerEvents], [[], [], []], 'inserted, but the events not published: no commit, no snapshot');
  t.equal((await world.owner(0)).insertedBefore, 0, 'nor counted as written, which the upkeep would snapshot by');
  await handled;
  await settle();
  t.same(eventIds(world), ['0:0', '0:1', '0:2'], 'published once the broker took them');
  t.same(world.commits, [[0, 3]], 'then committed');
  t.same(world.events.slice(-3), ['events 3', 'commit 3', 'snapshot 3'], 'and the due snapshot saved after both');
});

t.test('a stopping consumer gives up publishing, and commits nothing after it', async (t) => {
  const world = eventsWorld();
  const handler = world.handler();
  world.owners.assign([0]);
  world.eventFailures = 2;
  const handled = handler.handle(payload(0, deposits(0, 0)).batch);
  await settle();
  world.stopping = true;
  world.writes[0]!.done.resolve();
  await t.rejects(handled, { message: 'broker away' });
  await settle();
  t.same([world.commits, world.ledgerEvents], [[], []]);
});

t.test('a batch decided again after a crash before its commit publishes the same events, with the same ids', async (t) => {
  const world = eventsWorld();
  const handler = world.handler();
  world.owners.assign([2]);
  const records = [...deposits(0, 1), record(2, request('r', 'acc', 5)), record(3, transfer('t', 'acc', 'other', 7))];
  await handler.handle(payload(2, records).batch);
  const first = [...world.ledgerEvents];
  t.equal(first.length, 4);
  // The owner dies before the insert and the commit: the next one starts empty from the committed offset 0.
  world.owners.assign([]);
  world.owners.assign([2]);
  await decideAndInsert(world, handler, 2, records);
  const again = world.ledgerEvents.slice(first.length);
  t.same(again, first, 'the same events, ids included');
  t.same(world.commits, [[2, 4]], 'committed once they are published');
});

t.test('events off: nothing is published, and the batch commits as before', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([0]);
  await decideAndInsert(world, handler, 0, deposits(0, 1));
  t.same(world.events, ['dead letters 0 to teller.tx', 'read model', 'write 2', 'commit 2']);
  t.same(world.ledgerEvents, []);
});

// The batch path without a stack: kafkajs's batch payload and every component
// the batch writes to are in-memory fakes, the owners and the ledger rules are
// the real ones. What a batch must do: write its ledger documents, commit
// lastOffset+1 only once they are in, position itself against the owner's
// state, publish dead letters, save a due snapshot only after its insert, and
// leave a read model Redis missed or lost to the upkeep to write back whole
// (test/unit/read-model-write-back.test.ts).
import t from 'tap';
import type { LedgerDoc } from '../../common/types.js';
import { MAX_BACKLOG } from '../../consumer/partition-batch.js';
import { decideAndInsert, deposits, payload, record, settle, World } from '../helpers/batch-world.js';
import { deposit } from '../helpers/tx.js';

const offsetsOf = (docs: LedgerDoc[]) => docs.map((doc) => doc.offset);

t.test('a batch is written to the ledger, and lastOffset+1 committed only once the insert is done', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([3]);
  const { batch, resolved } = payload(3, deposits(0, 2), { highWatermark: 10 });
  await handler.handle(batch);

  t.same(offsetsOf(world.writes[0]!.docs), [0, 1, 2], 'one ledger document a deposit');
  t.same(world.readModelWrites[0]!.map((a) => [a.accountId, a.account.balance, a.offset]), [['acc', 30, 2]], 'the account as of the batch');
  t.same(resolved, ['2'], 'the batch is resolved once decided');
  t.same(world.commits, [], 'nothing committed before the insert');
  t.equal((await world.owner(3)).insertedBefore, 0);

  world.writes[0]!.done.resolve();
  await settle();
  t.same(world.commits, [[3, 3]], 'committed at lastOffset+1 after the insert');
  t.same(world.events, ['dead letters 0 to teller.tx', 'read model', 'write 3', 'commit 3'], 'in this order');
  t.equal((await world.owner(3)).insertedBefore, 3);
  t.equal(handler.stats.applied, 3);
  t.equal(handler.stats.lag.get(3), 7, 'messages behind the high watermark');
});

t.test('an insert that fails commits nothing', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([0]);
  await handler.handle(payload(0, deposits(0, 1)).batch);
  world.writes[0]!.done.reject(new Error('writer stopped'));
  await settle();
  t.same(world.commits, []);
  t.equal((await world.owner(0)).insertedBefore, 0);
});

t.test('the first batch at another offset than the state sends the consumer to the state, which rebuilds without rewriting', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([1]);

  // The group committed 5 (an earlier owner wrote 0..4); this owner's state stands at 0.
  const first = payload(1, deposits(5, 6));
  await handler.handle(first.batch);
  t.same(world.seeks, [[1, 0]], 'sent back to the state');
  t.same(first.resolved, [], 'the batch is not resolved');
  t.same(world.events, [], 'nor decided');

  const rebuilt = await decideAndInsert(world, handler, 1, deposits(0, 4));
  t.same(rebuilt, ['4'], 'records before the committed offset are resolved');
  t.same(world.events, [], 'and rebuild the state only: nothing written, nothing committed');
  t.equal((await world.owner(1)).insertedBefore, 5);

  await decideAndInsert(world, handler, 1, deposits(5, 6));
  t.same(offsetsOf(world.writes[0]!.docs), [5, 6], 'the records after it are written');
  t.same(world.readModelWrites[0]!.map((a) => a.account.balance), [70], 'over the rebuilt state');
  t.same(world.commits, [[1, 7]]);

  const owner = await world.owner(1);
  world.owners.assign([1]);
  t.equal(await world.owner(1), owner, 'assigned again: the state is kept');
  const again = payload(1, deposits(9, 9));
  await handler.handle(again.batch);
  t.same(world.seeks, [[1, 0], [1, 7]], 'and positioned again from the committed offset');
});

t.test('a batch mixing records written before and after the committed offset writes only the later ones', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([0]);
  await handler.handle(payload(0, deposits(3, 3)).batch);
  await decideAndInsert(world, handler, 0, deposits(0, 5));
  t.same(offsetsOf(world.writes[0]!.docs), [3, 4, 5]);
  t.same(world.commits, [[0, 6]]);
});

t.test('records the state holds already are skipped, with a seek to the state', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([2]);
  await decideAndInsert(world, handler, 2, deposits(0, 4));
  const again = payload(2, deposits(3, 6));
  await handler.handle(again.batch);
  t.same(world.seeks, [[2, 5]], 'sent to the state');
  t.same(again.resolved, []);
  t.equal(world.writes.length, 1, 'nothing decided twice');
  t.equal((await world.owner(2)).nextOffset, 5);
});

t.test('after a gap in the log the batch is decided from its first record', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([0]);
  await decideAndInsert(world, handler, 0, deposits(0, 1));
  await decideAndInsert(world, handler, 0, deposits(10, 11));
  t.same(world.seeks, []);
  t.same(offsetsOf(world.writes[1]!.docs), [10, 11]);
  t.same(world.commits.at(-1), [0, 12]);
});

t.test('records that do not parse are dead-lettered, retried until published, before the read model is written', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([4]);
  world.deadLetterFailures = 1;
  await decideAndInsert(world, handler, 4, [record(0, 'not json'), ...deposits(1, 1)]);
  t.equal(world.deadLetters.length, 1, 'published once it went through');
  t.same(
    world.deadLetters[0]!.map((letter) => letter.record.offset),
    ['0'],
  );
  t.match(world.deadLetters[0]![0]!.reason, /^not JSON/);
  t.same(world.events.slice(0, 2), ['dead letters 1 to teller.tx', 'read model']);
  t.same(offsetsOf(world.writes[0]!.docs), [1]);
  t.same(world.commits, [[4, 2]], 'the dead letter is committed past with the rest');
  t.equal(handler.stats.deadLettered, 1);
});

t.test('a stopping consumer gives up publishing dead letters', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([0]);
  await world.owner(0);
  world.deadLetterFailures = 2;
  const handled = handler.handle(payload(0, [record(0, 'not json')]).batch);
  await settle();
  world.stopping = true;
  await t.rejects(handled, { message: 'broker away' });
  t.same(world.writes, [], 'nothing written');
});

t.test('the read model is not whole after a failed write, or when Redis lacks the partition or lost writes', async (t) => {
  for (const [answer, what] of [
    [new Error('redis down'), 'a failed write'],
    ['missing', 'the partition readiness marker is gone'],
    ['behind', 'Redis lost writes it acknowledged'],
  ] as const) {
    const world = new World();
    const handler = world.handler();
    world.owners.assign([0]);
    const owner = await world.owner(0);
    await decideAndInsert(world, handler, 0, deposits(0, 0));
    t.equal(owner.readModel.whole, true, 'a first write that finds Redis whole leaves it whole');
    world.readModelAnswer = answer;
    await decideAndInsert(world, handler, 0, deposits(1, 1));
    t.equal(owner.readModel.whole, false, what);
    t.same(world.commits.at(-1), [0, 2], 'the ledger goes on without Redis');
  }
});

t.test('a snapshot that falls due is saved only after its insert, and whole after an abandoned one', async (t) => {
  const world = new World();
  const handler = world.handler(0);
  world.owners.assign([0]);

  await handler.handle(payload(0, deposits(0, 2)).batch);
  await settle();
  t.same(world.saved, [], 'not before the insert');
  world.writes[0]!.done.resolve();
  await settle();
  t.same(world.saved, [{ offset: 3, base: undefined }], 'after it, at lastOffset+1');
  t.same(world.events.slice(-2), ['commit 3', 'snapshot 3']);

  await decideAndInsert(world, handler, 0, deposits(3, 4));
  t.same(world.saved.at(-1), { offset: 5, base: 3 }, 'the next is a delta over it');

  await handler.handle(payload(0, deposits(5, 6)).batch);
  world.writes.at(-1)!.done.reject(new Error('writer stopped'));
  await settle();
  t.equal(world.saved.length, 2, 'an abandoned insert saves no snapshot');

  await decideAndInsert(world, handler, 0, deposits(7, 8));
  t.same(world.saved.at(-1), { offset: 9, base: undefined }, 'the next is whole');
});

t.test('empty, stale, unowned and late batches are dropped', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([0]);
  await handler.handle(payload(0, []).batch);
  await handler.handle(payload(0, deposits(0, 1), { stale: true }).batch);
  await handler.handle(payload(5, deposits(0, 1)).batch);

  const pending = payload(0, deposits(0, 1));
  const handled = handler.handle(pending.batch);
  world.owners.assign([0]);
  await handled;
  t.same(pending.resolved, [], 'a batch of an older assignment');

  world.stopping = true;
  await handler.handle(payload(0, deposits(0, 1)).batch);
  t.same(world.events, [], 'nothing decided');
  t.same(world.seeks, []);
  t.equal((await world.owner(0)).positioned, false, 'nor positioned');
});

t.test('far ahead of the database, a batch waits for its own insert', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([0]);
  world.backlog = MAX_BACKLOG + 1;
  let done = false;
  const handled = handler.handle(payload(0, deposits(0, 1)).batch).then(() => {
    done = true;
  });
  await settle();
  t.equal(world.writes.length, 1);
  t.notOk(done, 'still waiting');
  world.writes[0]!.done.resolve();
  await handled;
  t.ok(done);
});

/** The query of the documents that may have changed the decision of `id` (consumer/id-lookup.ts). */
const laterChangesOf = (id: string) => ({ requestId: id, type: { $in: ['cancel', 'expire', 'transfer_post', 'transfer_void', 'reversal'] } });

t.test('a repeat whose decision memory let go of is read back from the ledger before the batch is decided', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([2]);
  await decideAndInsert(world, handler, 2, deposits(0, 0));
  t.same(world.lookups, [], 'a new id needs no lookup');
  await decideAndInsert(world, handler, 2, [record(1, deposit('d0', 'acc', 10))]);
  // An applied deposit may have been reversed since: its reversals are asked for too.
  t.same(world.lookups, [{ id: 'd0' }, laterChangesOf('d0')], 'the id the filter holds, looked up once, with what may have changed it');
  t.same(world.writes[1]?.docs, [], 'a repeat writes nothing');
  t.equal((await world.owner(2)).ledger.account('acc')?.balance, 10, 'and changes nothing: the first decision was found');
});

t.test('a decision whose insert is not done yet answers repeats from memory', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([2]);
  await handler.handle(payload(2, deposits(0, 0)).batch);
  await handler.handle(payload(2, [record(1, deposit('d0', 'acc', 10))]).batch);
  t.same(world.lookups, [], 'nothing read');
  t.equal((await world.owner(2)).ledger.account('acc')?.balance, 10, 'a replay');
});

t.test('a lookup that fails is tried again, and the batch decided once it answers', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([2]);
  await decideAndInsert(world, handler, 2, deposits(0, 0));
  world.lookupFailures = 1;
  await decideAndInsert(world, handler, 2, [record(1, deposit('d0', 'acc', 10))]);
  t.same(world.lookups, [{ id: 'd0' }, { id: 'd0' }, laterChangesOf('d0')], 'asked twice');
  t.equal((await world.owner(2)).ledger.account('acc')?.balance, 10, 'a replay');
});

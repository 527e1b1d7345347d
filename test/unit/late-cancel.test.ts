// The release of a withdrawal request whose caller was answered 402 timeout,
// made certain without the api: the owner that approves a request well past
// its `answerBy` publishes the same cancel the api would, before the batch is
// committed, and whichever copy of the cancel comes second is a replay.
import t from 'tap';
import { timeoutCancel } from '../../common/timeout-cancel.js';
import type { TxMessage } from '../../common/types.js';
import { lateCancels } from '../../consumer/late-cancel.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { DAY, decideAndInsert, LATE_CANCEL_MARGIN_MS, payload, record, settle, World } from '../helpers/batch-world.js';
import { deposit, request } from '../helpers/tx.js';

const NOW = 1_000_000;

t.test('a cancel is owed only for an approval more than the margin past its answerBy', async (t) => {
  const approval = (id: string, answerBy: number) => ({ accountId: 'acc', id, answerBy });
  const owed = lateCancels([approval('late', NOW - 1001), approval('at-margin', NOW - 1000), approval('timely', NOW + 5)], NOW, 1000);
  t.same(owed, [{ v: 1, id: 'late~timeout', type: 'cancel', accountId: 'acc', requestId: 'late', receivedAt: NOW }]);
});

t.test('a batch approving a request past its answerBy publishes its cancel before the read model and the commit', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([2]);
  world.now = NOW;
  await decideAndInsert(world, handler, 2, [
    record(0, deposit('d', 'acc', 100)),
    record(1, request('late', 'acc', 10, { answerBy: NOW - LATE_CANCEL_MARGIN_MS - 1 })),
    record(2, request('timely', 'acc', 10, { answerBy: NOW - LATE_CANCEL_MARGIN_MS + 1 })),
    record(3, request('denied', 'acc', 1000, { answerBy: 0 })),
    record(4, request('unanswered', 'acc', 10)),
  ]);
  t.same(world.minted, [timeoutCancel('acc', 'late', NOW)], 'the late approval only: not one in time, a denial or one nobody waited for');
  t.same(world.events, ['dead letters 0 to teller.tx', 'minted 1', 'read model', 'write 5', 'commit 5'], 'published before the commit');
  t.match(world.outcomes, [{ id: 'd' }, { id: 'late', status: 'approved' }, { id: 'timely', status: 'approved' }, { id: 'denied', status: 'denied' }, { id: 'unanswered', status: 'approved' }]);
});

t.test('a batch of late approvals is committed only once their cancels are published', async (t) => {
  const world = new World();
  const handler = world.handler();
  world.owners.assign([0]);
  world.now = NOW;
  world.mintedFailures = 1;
  await decideAndInsert(world, handler, 0, [record(0, deposit('d', 'acc', 100)), record(1, request('late', 'acc', 10, { answerBy: 0 }))]);
  t.equal(world.minted.length, 1, 'published once the broker took it');
  t.same(world.commits, [[0, 2]]);

  world.mintedFailures = 2;
  const handled = handler.handle(payload(0, [record(2, request('late-2', 'acc', 10, { answerBy: 0 }))]).batch);
  await settle();
  world.stopping = true;
  await t.rejects(handled, { message: 'broker away' }, 'a stopping consumer gives up');
  t.same(world.commits, [[0, 2]], 'and commits nothing after it');
});

t.test("the owner's cancel and the api's are one transaction: the second is a replay", async (t) => {
  const ledger = new PartitionLedger(0, DAY);
  ledger.apply(deposit('d', 'acc', 100), 0);
  ledger.apply(request('r', 'acc', 30, { answerBy: 500, receivedAt: 100 }), 1);
  const fromApi: TxMessage = timeoutCancel('acc', 'r', 3_100);
  const fromOwner: TxMessage = timeoutCancel('acc', 'r', 5_000);
  const first = ledger.apply(fromApi, 2);
  t.match(first.outcome, { id: 'r~timeout', status: 'applied', reserved: 0 });
  t.match(first.changed, [{ id: 'r', status: 'cancelled' }], 'the request reads cancelled');
  const second = ledger.apply(fromOwner, 3);
  t.match(second.outcome, { id: 'r~timeout', status: 'applied', replayed: true }, 'the second copy is a replay');
  t.same(second.docs, [], 'which writes nothing');
  t.equal(ledger.account('acc')!.balance, 100);
  t.equal(ledger.account('acc')!.reserved, 0);
  const retried = ledger.apply(request('r', 'acc', 30, { answerBy: 9_000, receivedAt: 6_000 }), 4);
  t.match(retried.outcome, { id: 'r', status: 'cancelled', replayed: true }, 'a retry of the request with its own answerBy is a replay too');
});

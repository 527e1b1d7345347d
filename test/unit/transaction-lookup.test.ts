// A transaction by id (api/readmodel.ts): Redis answers while it holds the
// id's outcome; after its horizon (or after it lost it), the ledger does, with
// what became of a request since; an id on several accounts answers its
// newest decision, and the lookup by account answers exactly. While Redis
// lacks a partition's writes (its ready marker gone), neither answers.
import t from 'tap';
import { ReadModel } from '../../api/readmodel.js';
import { decide, type Account, type Position } from '../../consumer/ledger.js';
import { partitionOf } from '../../common/message.js';
import { encodeStoredOutcome, keys } from '../../common/read-model.js';
import { TELLER_ERR_LEDGER_UNAVAILABLE, TELLER_ERR_READ_MODEL_UNAVAILABLE } from '../../common/errors.js';
import type { LedgerDoc, TxMessage } from '../../common/types.js';
import { cancel, deposit, request } from '../helpers/tx.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';

const RICH: Account = { balance: 1_000, reserved: 0, updatedAt: 0, holds: [] };
const at = (partition: number, offset: number, clock: number): Position => ({ partition, offset, clock });

/** Redis as the read model reads it: plain keys, every partition's ready marker but those of `behind`, or failing. */
function redisOf(values: Map<string, string>, failing = false, behind: number[] = []) {
  const fail = () => Promise.reject(new Error('redis away'));
  const lacking = new Set(behind.map((partition) => keys.ready(partition)));
  return {
    get: async (key: string) => (failing ? fail() : (values.get(key) ?? null)),
    hmget: async () => [],
    exists: async (...markers: string[]) => markers.filter((marker) => !lacking.has(marker)).length,
  } as unknown as ConstructorParameters<typeof ReadModel>[0];
}

function build(docs: LedgerDoc[], redis = new Map<string, string>(), behind: number[] = []) {
  const ledger = new MemoryLedger();
  ledger.insert(docs);
  const asked: unknown[] = [];
  const finder = { find: (filter: object, options?: object) => (asked.push(filter), ledger.finder.find(filter, options)) };
  return { model: new ReadModel(redisOf(redis, false, behind), () => 4, finder as never), asked };
}

const decision = (msg: TxMessage, pos: Position, account = RICH) => decide(account, msg, pos);

t.test('Redis answers while it holds the outcome; the ledger is not read', async (t) => {
  const d = decision(deposit('x', 'acc', 10), at(0, 1, 5_000));
  const redis = new Map([[keys.txId('x'), 'acc'], [keys.outcome('acc', 'x'), encodeStoredOutcome(d.outcome)]]);
  const { model, asked } = build([], redis);
  t.strictSame(await model.transaction('x'), { accountId: 'acc', outcome: d.outcome });
  t.strictSame(asked, []);
});

t.test('past Redis\'s horizon the ledger answers, with what became of a request', async (t) => {
  const req = decision(request('r', 'acc', 40, { expiresInSeconds: 60 }), at(0, 1, 5_000));
  const held: Account = { ...RICH, reserved: 40, holds: [{ id: 'r', amount: 40, expiresAt: 99_000 }] };
  const cancelled = decision(cancel('c', 'acc', 'r'), at(0, 2, 6_000), held);
  const { model } = build([req.doc, cancelled.doc]);
  t.strictSame(await model.transaction('r'), { accountId: 'acc', outcome: { ...req.outcome, status: 'cancelled' } }, 'the request, cancelled since');
  t.strictSame(await model.transaction('c'), { accountId: 'acc', outcome: cancelled.outcome }, 'the cancel itself');
  t.equal(await model.transaction('nowhere'), null, 'an id neither holds: not found');
});

t.test('an id on two accounts: the newest decision without an account, each exactly with one', async (t) => {
  const first = decision(deposit('x', 'a', 10), at(0, 1, 5_000));
  const second = decision(deposit('x', 'b', 20), at(1, 1, 9_000));
  const { model } = build([second.doc, first.doc]);
  t.equal((await model.transaction('x'))?.outcome?.accountId, 'b', 'the newest by the log clock');
  t.equal((await model.accountTransaction('a', 'x'))?.outcome?.amount, 10, 'on a');
  t.equal((await model.accountTransaction('b', 'x'))?.outcome?.amount, 20, 'on b');
  t.equal(await model.accountTransaction('c', 'x'), null, 'on an account that never used it');
});

t.test('registered and decided nowhere yet: pending; registered on one account, the ledger is read for that account', async (t) => {
  const other = decision(deposit('x', 'old', 10), at(0, 1, 1_000));
  const { model, asked } = build([other.doc], new Map([[keys.txId('x'), 'acc']]));
  t.strictSame(await model.transaction('x'), { accountId: 'acc' }, "pending on the registry's account, not another account's old decision");
  t.strictSame(asked, [{ id: 'x' }]);
  t.strictSame(await model.accountTransaction('acc', 'x'), { accountId: 'acc' }, 'pending, by account too');
  t.equal(await model.accountTransaction('old', 'x').then((v) => v?.outcome?.amount), 10, 'the old one, by its account');
});

t.test('Redis away: 503 read-model-unavailable; the ledger away: 503 ledger-unavailable', async (t) => {
  const down = new ReadModel(redisOf(new Map(), true), () => 4, new MemoryLedger().finder as never);
  await t.rejects(down.transaction('x'), { code: TELLER_ERR_READ_MODEL_UNAVAILABLE.code });
  const failing = { find: () => ({ toArray: () => Promise.reject(new Error('database away')) }) };
  const noLedger = new ReadModel(redisOf(new Map()), () => 4, failing as never);
  await t.rejects(noLedger.transaction('x'), { code: TELLER_ERR_LEDGER_UNAVAILABLE.code });
});

t.test('while Redis lacks writes of a partition, its ids are answered by neither Redis nor the ledger: 503', async (t) => {
  const d = decision(deposit('x', 'acc', 10), at(partitionOf('acc', 4), 1, 5_000));
  const redis = new Map([[keys.txId('x'), 'acc'], [keys.outcome('acc', 'x'), encodeStoredOutcome(d.outcome)]]);
  const unavailable = { code: TELLER_ERR_READ_MODEL_UNAVAILABLE.code };
  const { model, asked } = build([d.doc], redis, [partitionOf('acc', 4)]);
  await t.rejects(model.transaction('x'), unavailable, 'registered on a partition Redis is behind on');
  await t.rejects(model.accountTransaction('acc', 'x'), unavailable, 'by account');
  const other = (partitionOf('acc', 4) + 1) % 4;
  await t.rejects(build([d.doc], new Map(), [other]).model.transaction('x'), unavailable, 'an id the registry lacks, while any partition is behind');
  t.strictSame(asked, [], 'the ledger is not read');
  t.strictSame(await build([d.doc], new Map(), [other]).model.accountTransaction('acc', 'x'), { accountId: 'acc', outcome: d.outcome }, "another partition's gap does not hold up a lookup by account");
});

// Reversals through NGINX on the real stack (docs/transfers.md, Reversals):
// part of a deposit, then more than is left; a completed transfer reversed
// through its credit, the money back across partitions exactly once.
import t from 'tap';
import { partitionOf } from '../../common/message.js';
import { uniq } from '../helpers/http.js';
import { topicPartitions, waitFor } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

async function balance(account: string): Promise<number> {
  const r = await v1.account(account);
  return r.status === 200 ? r.body.balance : 0;
}

t.test('a deposit reversed in part, never past what is left, each reversal once', async (t) => {
  const a = uniq('rev');
  const deposit = uniq('d');
  t.equal((await v1.deposit(a, { id: deposit, amount: 100 })).status, 200);
  const first = { id: uniq('v'), amount: 30, reference: 'chargeback 1' };
  let r = await v1.reversal(deposit, first);
  t.equal(r.status, 200, `applied: ${JSON.stringify(r.body)}`);
  t.match(r.body, { type: 'reversal', requestId: deposit, amount: 30, status: 'applied', balance: 70 });
  r = await v1.reversal(deposit, first);
  t.equal(r.status, 200, 'a repeat answers the same');
  t.equal(await balance(a), 70, 'and takes nothing more');
  r = await v1.reversal(deposit, { id: uniq('v'), amount: 71 });
  t.equal(r.status, 402, 'more than is left is refused');
  t.match(r.body, { reason: 'exceeds_original' });
  r = await v1.reversal(deposit, { id: uniq('v') });
  t.equal(r.status, 200, 'without an amount: all that is left');
  t.match(r.body, { amount: 70, balance: 0 });
  const original = await v1.transaction(deposit);
  t.match(original.body, { id: deposit, reversed: 100 }, 'the original shows what was reversed');
});

t.test('a completed transfer reversed: the money goes back across partitions once', async (t) => {
  const partitions = await topicPartitions();
  const from = uniq('rev-from');
  let to = uniq('rev-to');
  while (partitionOf(to, partitions) === partitionOf(from, partitions)) to = uniq('rev-to');
  await v1.deposit(from, { id: uniq('d'), amount: 500 });
  const transfer = uniq('t');
  t.equal((await v1.transfer({ id: transfer, from, to, amount: 200 })).status, 200);
  const r = await v1.reversal(transfer, { id: uniq('v'), amount: 50 });
  t.equal(r.status, 200, `reversal of the credit on to: ${JSON.stringify(r.body)}`);
  t.match(r.body, { accountId: to, type: 'reversal', status: 'applied', balance: 150 });
  await waitFor(async () => ((await balance(from)) === 350 ? true : undefined), { what: 'the credit back on from', timeoutMs: 10_000 });
  t.same([await balance(from), await balance(to)], [350, 150], 'the reversed amount is back on from, once');
});

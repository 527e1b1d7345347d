// Transfers through NGINX on the real stack (docs/transfers.md): the debit on
// one partition, the credit carried by the log to another, each applied once;
// the answer after both legs; denials, limits, frozen and closed accounts, the
// return of a refused credit; references and metadata kept in the ledger.
import t from 'tap';
import { partitionOf } from '../../common/message.js';
import { uniq } from '../helpers/http.js';
import { topicPartitions, waitFor } from '../helpers/stack.js';
import { call, v1 } from '../helpers/v1.js';

const COMPLETED = [200, 201];

/** Two fresh account names whose partitions are the same (`same`) or differ. */
async function accountPair(prefix: string, same: boolean): Promise<[string, string]> {
  const partitions = await topicPartitions();
  const first = uniq(`${prefix}-a`);
  for (let n = 0; n < 10_000; n++) {
    const second = `${uniq(prefix)}-b${n}`;
    if ((partitionOf(first, partitions) === partitionOf(second, partitions)) === same) return [first, second];
  }
  throw new Error('no account pair found');
}

async function balances(...accounts: string[]): Promise<number[]> {
  return Promise.all(
    accounts.map(async (a) => {
      const r = await v1.account(a);
      return r.status === 200 ? r.body.balance : 0;
    }),
  );
}

t.test('a transfer across partitions completes once, and both accounts show it after the answer', async (t) => {
  const [alice, bob] = await accountPair('xfer', false);
  t.equal((await v1.deposit(alice, { id: uniq('d'), amount: 1000 })).status, 200);
  const id = uniq('t');
  const body = { id, from: alice, to: bob, amount: 300, reference: 'invoice 42', metadata: { order: 'o-1' } };
  const r = await v1.transfer(body);
  t.ok(COMPLETED.includes(r.status), `completed: ${r.status} ${JSON.stringify(r.body)}`);
  t.match(r.body, { id, from: alice, to: bob, amount: 300, status: 'completed', reference: 'invoice 42', metadata: { order: 'o-1' } });
  t.same(await balances(alice, bob), [700, 300], 'reads of both accounts show it at once');

  const again = await v1.transfer(body);
  t.ok(COMPLETED.includes(again.status), 'a repeat answers the same');
  t.match(again.body, { id, status: 'completed', amount: 300 });
  t.same(await balances(alice, bob), [700, 300], 'and moves nothing');
  const other = await v1.transfer({ ...body, amount: 301 });
  t.equal(other.status, 409, 'the id with another body is a conflict');

  const state = await v1.transferState(id);
  t.equal(state.status, 200);
  t.match(state.body, { id, from: alice, to: bob, amount: 300, status: 'completed' });

  const debits = await v1.statement(alice);
  const credits = await v1.statement(bob);
  const debit = debits.body.data.find((x: { id: string }) => x.id === id);
  const credit = credits.body.data.find((x: { type: string }) => x.type === 'transfer_credit');
  t.match(debit, { type: 'transfer', amount: 300, counterparty: bob, reference: 'invoice 42', metadata: { order: 'o-1' } }, 'the debit in the statement of from');
  t.match(credit, { transferId: id, amount: 300, counterparty: alice, reference: 'invoice 42' }, 'the credit in the statement of to, linked');
});

t.test('transfers within one partition and to the same account take the same path', async (t) => {
  const [carol, dave] = await accountPair('xfer-same', true);
  await v1.deposit(carol, { id: uniq('d'), amount: 100 });
  const r = await v1.transfer({ id: uniq('t'), from: carol, to: dave, amount: 40 });
  t.ok(COMPLETED.includes(r.status));
  t.match(r.body, { status: 'completed' });
  t.same(await balances(carol, dave), [60, 40]);
  const self = await v1.transfer({ id: uniq('t'), from: carol, to: carol, amount: 60 });
  t.match(self.body, { status: 'completed' });
  t.same(await balances(carol), [60], 'a transfer to itself changes no balance');
});

t.test('a debit beyond the funds is denied and moves nothing; the overdraft limit extends the funds', async (t) => {
  const [erin, frank] = await accountPair('xfer-funds', false);
  await v1.deposit(erin, { id: uniq('d'), amount: 100 });
  let r = await v1.transfer({ id: uniq('t'), from: erin, to: frank, amount: 101 });
  t.equal(r.status, 402);
  t.match(r.body, { status: 'denied', reason: 'insufficient_funds' });
  t.same(await balances(erin, frank), [100, 0]);

  r = await v1.settings(erin, { overdraftLimit: 50 });
  t.equal(r.status, 200, `settings applied: ${JSON.stringify(r.body)}`);
  t.match(r.body, { overdraftLimit: 50, status: 'open' });
  r = await v1.transfer({ id: uniq('t'), from: erin, to: frank, amount: 150 });
  t.ok(COMPLETED.includes(r.status), 'within the limit');
  t.same(await balances(erin, frank), [-50, 150]);
  r = await v1.transfer({ id: uniq('t'), from: erin, to: frank, amount: 1 });
  t.equal(r.status, 402, 'past the limit');
  t.match((await v1.account(erin)).body, { balance: -50, overdraftLimit: 50 });
});

t.test('frozen and closed accounts refuse what they must; a refused credit is returned', async (t) => {
  const [gina, hank] = await accountPair('xfer-status', false);
  await v1.deposit(gina, { id: uniq('d'), amount: 500 });
  await v1.deposit(hank, { id: uniq('d'), amount: 5 });

  t.equal((await v1.settings(gina, { status: 'frozen' })).status, 200);
  let r = await v1.transfer({ id: uniq('t'), from: gina, to: hank, amount: 10 });
  t.equal(r.status, 402);
  t.match(r.body, { status: 'denied', reason: 'account_frozen' });
  r = await v1.deposit(gina, { id: uniq('d'), amount: 1 });
  t.equal(r.status, 200, 'a frozen account still takes credits');
  t.equal((await v1.settings(gina, { status: 'open' })).status, 200);

  r = await v1.settings(hank, { status: 'closed' });
  t.equal(r.status, 402, 'an account holding money cannot close');
  t.match(r.body, { reason: 'account_not_empty' });
  await v1.withdraw(hank, { id: uniq('w'), amount: 5 });
  r = await v1.settings(hank, { status: 'closed' });
  t.equal(r.status, 200, 'an empty account closes');

  const id = uniq('t');
  r = await v1.transfer({ id, from: gina, to: hank, amount: 100 });
  t.equal(r.status, 402, 'the credit to a closed account is refused');
  t.match(r.body, { id, status: 'returned', reason: 'account_closed' });
  // The return is a message of its own: wait for it to be applied.
  let state = await v1.transferState(id);
  for (let n = 0; n < 50 && (await balances(gina))[0] !== 501; n++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(await balances(gina, hank), [501, 0], 'the amount is back where it came from');
  state = await v1.transferState(id);
  t.match(state.body, { status: 'returned' });
});

t.test('references and metadata on a deposit are kept and answered', async (t) => {
  const a = uniq('ref');
  const r = await v1.deposit(a, { id: uniq('d'), amount: 7, reference: 'ext-1', metadata: { channel: 'web', 'batch-id': '9' } });
  t.equal(r.status, 200);
  t.match(r.body, { reference: 'ext-1', metadata: { channel: 'web', 'batch-id': '9' } });
  for (const key of ['no spaces', 'dotted.key', '$set']) {
    const bad = await v1.deposit(a, { id: uniq('d'), amount: 7, metadata: { [key]: 'x' } });
    t.equal(bad.status, 400, `the metadata key ${key} is refused`);
  }
  t.same(await balances(a), [7], 'and changes nothing');
  await v1.deposit(a, { id: uniq('d'), amount: 3, reference: 'ext-2' });
  const filtered = await waitFor(
    async () => {
      const r = await v1.statement(a, '?reference=ext-1');
      return r.status === 200 && r.body.data.length === 1 ? r : undefined;
    },
    { what: 'the statement of ext-1', timeoutMs: 10_000 },
  );
  t.match(filtered.body.data, [{ reference: 'ext-1', amount: 7 }], 'a statement narrowed to one reference');
});

t.test('a two-phase transfer: held on from, posted in part to to, or voided', async (t) => {
  const [ivy, jack] = await accountPair('xfer-pending', false);
  await v1.deposit(ivy, { id: uniq('d'), amount: 100 });
  const id = uniq('t');
  let r = await v1.transfer({ id, from: ivy, to: jack, amount: 60, pending: true });
  t.equal(r.status, 201, `held: ${JSON.stringify(r.body)}`);
  t.match((await v1.account(ivy)).body, { balance: 100, reserved: 60, available: 40 }, 'the amount is held on from');
  r = await call('POST', `/v1/transfers/${id}/post`, { id: uniq('p'), amount: 45 });
  t.equal(r.status, 200, `posted: ${JSON.stringify(r.body)}`);
  t.match(r.body, { id, status: 'completed' });
  t.match((await v1.account(ivy)).body, { balance: 55, reserved: 0 }, 'the posted part moved, the rest released');
  t.same(await balances(jack), [45]);
  // Reversed by the transfer's id: the api finds the post's credit, on jack.
  await waitFor(async () => ((await v1.transferState(id)).body?.status === 'completed' ? true : undefined), { what: 'the post in the ledger', timeoutMs: 10_000 });
  r = await v1.reversal(id, { id: uniq('v'), amount: 5 });
  t.equal(r.status, 200, `the posted transfer reversed: ${JSON.stringify(r.body)}`);
  t.match(r.body, { accountId: jack, type: 'reversal', balance: 40 });
  await waitFor(async () => ((await balances(ivy))[0] === 60 ? true : undefined), { what: 'the credit back on ivy', timeoutMs: 10_000 });

  const voided = uniq('t');
  t.equal((await v1.transfer({ id: voided, from: ivy, to: jack, amount: 20, pending: true })).status, 201);
  r = await call('POST', `/v1/transfers/${voided}/void`, { id: uniq('v') });
  t.equal(r.status, 200, `voided: ${JSON.stringify(r.body)}`);
  t.match((await v1.account(ivy)).body, { balance: 60, reserved: 0 });
  r = await call('POST', `/v1/transfers/${voided}/post`, { id: uniq('p') });
  t.equal(r.status, 404, 'a voided transfer cannot be posted');
  t.match((await v1.transferState(voided)).body, { status: 'voided' });
});

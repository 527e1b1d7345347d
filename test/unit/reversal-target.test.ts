// Where the api sends a reversal: the original's account; for a transfer, the
// account credited, naming the credit (of the debit, or of the post of a
// two-phase transfer, whose id holds the post's time).
import t from 'tap';
import { creditId } from '../../common/transfer-ids.js';
import type { Outcome } from '../../common/types.js';
import { reversalOf } from '../../api/routes/v1/reversals.js';

const outcome = (o: Partial<Outcome>): Outcome => ({ id: 't1', accountId: 'ann', type: 'transfer', status: 'applied', balance: 0, reserved: 0, decidedAt: 5_000, ...o });
const view = (o: Outcome) => ({ accountId: o.accountId, outcome: o }) as never;

t.test('a deposit is reversed on its own account', async (t) => {
  t.match(reversalOf('v1', 'ann', 'd1', view(outcome({ id: 'd1', type: 'deposit' })), { amount: 3 }), { accountId: 'ann', requestId: 'd1', amount: 3, type: 'reversal' });
});

t.test('an applied transfer is reversed through its credit on to', async (t) => {
  const debit = outcome({ counterparty: 'bob' });
  t.match(reversalOf('v1', 'ann', 't1', view(debit), {}), { accountId: 'bob', requestId: creditId('t1', 'ann', 5_000) });
});

t.test('a posted two-phase transfer is reversed through the credit of its post', async (t) => {
  const held = outcome({ status: 'posted', pending: true, counterparty: 'bob' });
  const credit = outcome({ id: creditId('t1', 'ann', 9_000), accountId: 'bob', type: 'transfer_credit' });
  t.match(reversalOf('v1', 'ann', 't1', view(held), {}, credit), { accountId: 'bob', requestId: creditId('t1', 'ann', 9_000) });
  t.match(reversalOf('v1', 'ann', 't1', view(held), {}), { accountId: 'ann', requestId: 't1' }, 'without the credit, its owner answers why not');
});

// The `reversal` message (docs/kafka-contract.md, docs/transfers.md
// Reversals): its original is required, its amount optional, and only a
// reversal's original may be an id the owners minted (a transfer's credit).
import t from 'tap';
import { parseMessage } from '../../common/message.js';

const base = { v: 1, id: 'rv1', accountId: 'acc', receivedAt: 1, type: 'reversal' };
const parses = (message: object) => parseMessage(JSON.stringify(message)).ok;

t.test('a reversal names its original; its amount is optional and positive', async (t) => {
  t.ok(parses({ ...base, requestId: 'd1' }), 'all that is left');
  t.ok(parses({ ...base, requestId: 'd1', amount: 5, reference: 'refund', metadata: { case: '7' } }), 'part of it, with labels');
  t.ok(parses({ ...base, requestId: 't1~credit~from~1700000000000' }), "a transfer's credit, by the id its owner minted");
  t.notOk(parses(base), 'no original');
  t.notOk(parses({ ...base, requestId: 'd1', amount: 0 }), 'an amount of nothing');
  t.notOk(parses({ ...base, requestId: 'd1', counterparty: 'other' }), 'no counterparty: the original names it');
});

t.test('every other requestId is still a client id', async (t) => {
  t.notOk(parses({ ...base, type: 'cancel', requestId: 't1~credit~from~1' }), 'a cancel');
  t.notOk(parses({ ...base, type: 'withdraw', amount: 3, requestId: 'x~y' }), 'a withdrawal');
  t.ok(parses({ ...base, type: 'cancel', requestId: 'r1' }), 'a cancel of a client id');
  t.notOk(parses({ ...base, type: 'deposit' }), 'a deposit still needs its amount');
});

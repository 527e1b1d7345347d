// What the redrive makes of each dead-lettered record, without a stack.
import t from 'tap';
import { partitionOf } from '../../common/message.js';
import { redriveRecord } from '../../scripts/operations/dlq-redrive.js';

const value = (o: unknown) => Buffer.from(JSON.stringify(o));

t.test('a transaction that now passes is republished to its account, without the waiting call', async (t) => {
  const msg = { v: 1, id: 'd-1', type: 'deposit', accountId: 'alice', amount: 5, receivedAt: 1000, replyTo: 'api-1', callId: 'abc.1' };
  const result = redriveRecord(value(msg), 6, 'dlq/0/7');
  if (!('message' in result)) throw new Error(`skipped: ${result.skipped}`);
  t.equal(result.message.key, 'alice');
  t.equal(result.message.partition, partitionOf('alice', 6));
  t.same(result.message.headers, { 'teller-redriven-from': 'dlq/0/7' });
  const sent = JSON.parse(String(result.message.value));
  t.same(sent, { v: 1, id: 'd-1', type: 'deposit', accountId: 'alice', amount: 5, receivedAt: 1000 }, 'replyTo and callId dropped: nobody waits');
});

t.test('what is skipped, and why', async (t) => {
  t.same(redriveRecord(Buffer.from('{"v":1,'), 6, 'x'), { skipped: 'not JSON' }, 'a JSON error is one reason whatever its position');
  t.same(redriveRecord(value({ v: 1, type: 'tick', receivedAt: 5 }), 6, 'x'), { skipped: 'a tick (later ticks supersede it)' });
  const invalid = redriveRecord(value({ v: 1, id: 'x', type: 'deposit', accountId: 'a', receivedAt: 1 }), 6, 'x');
  t.ok('skipped' in invalid && invalid.skipped.startsWith('schema:'), 'a deposit without an amount is still refused');
});

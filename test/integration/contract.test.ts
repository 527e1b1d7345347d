// The compatibility contract through NGINX on the real stack:
// NGINX -> api -> Kafka -> consumer -> Redis/MongoDB -> GET.
import t from 'tap';
import { balanceOf, get, post, tx, uniq } from '../helpers/http.js';
import { ledgerDocs, closeLedger } from '../helpers/ledger.js';

t.teardown(closeLedger);

t.test('the walk-through of the original exercise', async (t) => {
  const a = uniq('walk');
  const id = (n: number) => `${a}-${n}`;

  let r = await tx(id(1), 'deposit', 100, a);
  t.equal(r.status, 200, 'deposit 100 -> 200');
  t.match(r.body, { id: id(1), accountId: a, type: 'deposit', amount: 100, status: 'applied', balance: 100, reserved: 0 });

  r = await tx(id(2), 'withdraw_request', 50, a);
  t.equal(r.status, 201, 'request 50 -> 201');
  t.match(r.body, { status: 'approved', balance: 100, reserved: 50 });

  r = await tx(id(3), 'withdraw_request', 51, a);
  t.equal(r.status, 402, 'request 51 -> 402');
  t.match(r.body, { status: 'denied', reason: 'insufficient_funds', balance: 100, reserved: 50 });

  t.equal(await balanceOf(a), 100, 'balance 100');

  r = await tx(id(4), 'withdraw', 50, a);
  t.equal(r.status, 200, 'withdraw 50 -> 200');
  t.match(r.body, { status: 'applied', balance: 50, reserved: 0 });
  t.equal(await balanceOf(a), 50, 'balance 50');

  r = await tx(id(5), 'withdraw', 50, a);
  t.equal(r.status, 200, 'withdraw 50 without a request -> 200');
  t.equal(await balanceOf(a), 0, 'balance 0');

  r = await tx(id(6), 'withdraw', 100, a);
  t.equal(r.status, 200, 'withdraw 100 -> 200 all the same');
  t.match(r.body, { status: 'applied', balance: -100, overdraft: true });
  t.equal(await balanceOf(a), -100, 'balance -100');

  const unknown = await get(`/account/${uniq('nobody')}`);
  t.equal(unknown.status, 200);
  t.equal(unknown.body.balance, 0, 'an unknown account has balance 0');

  const docs = await ledgerDocs(a, 6);
  t.same(
    docs.map((d) => [d.id, d.type, d.status, d.balanceAfter, d.reservedAfter, d.overdraft ?? false]),
    [
      [id(1), 'deposit', 'applied', 100, 0, false],
      [id(2), 'withdraw_request', 'approved', 100, 50, false],
      [id(3), 'withdraw_request', 'denied', 100, 50, false],
      [id(4), 'withdraw', 'applied', 50, 0, false],
      [id(5), 'withdraw', 'applied', 0, 0, false],
      [id(6), 'withdraw', 'applied', -100, 0, true],
    ],
    'the ledger holds one document per call, in order',
  );
});

t.test('200 simultaneous requests of 10 against 1,000 approve exactly 100', async (t) => {
  const a = uniq('race');
  t.equal((await tx(`${a}-d`, 'deposit', 1000, a)).status, 200);
  const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => tx(`${a}-r${i}`, 'withdraw_request', 10, a)));
  const statuses = replies.map((r) => r.status);
  t.equal(statuses.filter((s) => s === 201).length, 100, 'exactly 100 approved');
  t.equal(statuses.filter((s) => s === 402).length, 100, 'the other 100 denied');
  const last = await tx(`${a}-probe`, 'withdraw_request', 1, a);
  t.equal(last.status, 402, 'nothing is left available');
  t.match(last.body, { balance: 1000, reserved: 1000 });
  t.equal(await balanceOf(a), 1000);
});

t.test('parallel retries of one id are applied once; a reused id with another body is refused', async (t) => {
  const a = uniq('retry');
  const id = `${a}-dep`;
  const replies = await Promise.all(Array.from({ length: 20 }, () => tx(id, 'deposit', 70, a)));
  t.ok(
    replies.every((r) => r.status === 200 && r.body.balance === 70),
    `every retry answers the first outcome: ${JSON.stringify(replies.map((r) => [r.status, r.body.balance]))}`,
  );
  t.equal(await balanceOf(a), 70, 'applied once');

  const reused = await tx(id, 'deposit', 71, a);
  t.equal(reused.status, 409, 'same id, another amount -> 409');
  t.equal(reused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  t.match(reused.body, { status: 409, title: 'Conflict' });

  const otherAccount = await tx(id, 'deposit', 70, uniq('other'));
  t.equal(otherAccount.status, 409, 'same id on another account -> 409');
  t.equal(await balanceOf(a), 70, 'nothing changed');
  t.equal((await ledgerDocs(a, 1)).length, 1, 'one ledger document');
});

t.test('hostile input is refused with problem+json and changes nothing', async (t) => {
  const a = uniq('hostile');
  t.equal((await tx(`${a}-seed`, 'deposit', 500, a)).status, 200);
  const base = { id: `${a}-x`, type: 'deposit', amount: 10, accountId: a };
  const cases: [string, string | object, Record<string, string>?, number?][] = [
    ['broken JSON', '{"id": "x", "type": "deposit",'],
    ['empty body', ''],
    ['an array', '[1,2,3]'],
    ['a string for the amount', { ...base, amount: '10' }],
    ['a fractional amount', { ...base, amount: 10.5 }],
    ['a zero amount', { ...base, amount: 0 }],
    ['a negative amount', { ...base, amount: -10 }],
    ['an amount over 2^53-1', '{"id":"' + base.id + '","type":"deposit","amount":9007199254740993,"accountId":"' + a + '"}'],
    ['a huge exponent', '{"id":"' + base.id + '","type":"deposit","amount":1e400,"accountId":"' + a + '"}'],
    ['NaN', '{"id":"' + base.id + '","type":"deposit","amount":NaN,"accountId":"' + a + '"}'],
    ['null amount', { ...base, amount: null }],
    ['a missing amount', { id: base.id, type: 'deposit', accountId: a }],
    ['an unknown type', { ...base, type: 'steal' }],
    ['an operator as id', { ...base, id: { $gt: '' } }],
    ['an operator as account', { ...base, accountId: { $ne: null } }],
    ['a $ in the account id', { ...base, accountId: '$where' }],
    ['an id too long', { ...base, id: 'x'.repeat(129) }],
    ['spaces in the id', { ...base, id: 'a b' }],
    ['an unknown field', { ...base, admin: true }],
    ['prototype pollution', '{"id":"' + base.id + '","type":"deposit","amount":10,"accountId":"' + a + '","__proto__":{"amount":1}}'],
    ['constructor pollution', '{"id":"' + base.id + '","type":"deposit","amount":10,"accountId":"' + a + '","constructor":{"prototype":{"x":1}}}'],
    ['text/plain', JSON.stringify(base), { 'content-type': 'text/plain' }, 415],
    ['form encoded', 'id=x&type=deposit&amount=10', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
    ['an oversized body', { ...base, timestamp: 'x'.repeat(20 * 1024) }, undefined, 413],
  ];
  for (const [name, body, headers, expected] of cases) {
    const r = await post('/transaction', body, headers);
    if (expected) t.equal(r.status, expected, `${name} -> ${expected}`);
    else t.ok(r.status >= 400 && r.status < 500, `${name} -> 4xx (got ${r.status})`);
    t.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, `${name}: problem+json`);
    t.match(r.body, { status: r.status, title: String, detail: String, type: String }, `${name}: a problem body`);
  }
  const badAccount = await get('/account/%24where');
  t.equal(badAccount.status, 400, 'GET with an invalid account id -> 400');
  t.equal(await balanceOf(a), 500, 'the balance did not change');
  t.equal((await ledgerDocs(a, 1)).length, 1, 'only the seed deposit is in the ledger');
});

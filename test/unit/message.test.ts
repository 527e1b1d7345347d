// The topic's message schema (docs/kafka-contract.md) and the account -> partition map.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { encodeMessage, isTransaction, parseMessage, partitionOf } from '../../common/message.js';
import type { LogMessage } from '../../common/types.js';

const base = { v: 1, id: 'tx-1', accountId: 'acc-1', receivedAt: 1_700_000_000_000 };
const parse = (o: unknown) => parseMessage(JSON.stringify(o));

function accepts(t: Test, o: unknown, what: string) {
  const r = parse(o);
  t.ok(r.ok, `accepts ${what}`);
  if (r.ok) t.strictSame(r.msg, o, `${what}: the message as sent`);
}
function rejects(t: Test, raw: unknown, what: string, reason: RegExp = /^schema: /) {
  const r = typeof raw === 'string' || raw === null || raw === undefined || Buffer.isBuffer(raw)
    ? parseMessage(raw as string | Buffer | null | undefined)
    : parse(raw);
  t.equal(r.ok, false, `rejects ${what}`);
  if (!r.ok) t.match(r.reason, reason, `${what}: reason`);
}

t.test('valid messages of each type', async (t) => {
  accepts(t, { ...base, type: 'deposit', amount: 100 }, 'a deposit');
  accepts(t, { ...base, type: 'withdraw_request', amount: 50, expiresAt: 1_700_000_003_000, replyTo: 'api-1.host_2' }, 'a request with expiry and replyTo');
  accepts(t, { ...base, type: 'withdraw_request', amount: 50 }, 'a request without expiry');
  accepts(t, { ...base, type: 'withdraw', amount: 50 }, 'a withdrawal');
  accepts(t, { ...base, type: 'withdraw', amount: 50, requestId: 'req:1' }, 'a withdrawal naming its request');
  accepts(t, { ...base, type: 'cancel', requestId: 'req.1' }, 'a cancel');
  accepts(t, { ...base, id: 'req.1~timeout', type: 'cancel', requestId: 'req.1' }, 'a system id with ~');
  accepts(t, { v: 1, type: 'tick', receivedAt: 5 }, 'a tick');
  accepts(t, { ...base, type: 'deposit', amount: Number.MAX_SAFE_INTEGER }, 'the largest safe amount');
  accepts(t, { ...base, type: 'deposit', amount: 1 }, 'one cent');
  accepts(t, { ...base, id: 'A-z_0.9:x', accountId: 'a'.repeat(64), type: 'deposit', amount: 1 }, 'every id character, 64-char account');
  accepts(t, { ...base, id: 'x'.repeat(240), type: 'deposit', amount: 1 }, 'a 240-char (system-length) id, room for the credit id of a 128-char transfer id on a 64-char account');
  accepts(t, { ...base, type: 'withdraw', amount: 1, requestId: 'r'.repeat(128) }, 'a 128-char requestId');
  accepts(t, { ...base, receivedAt: 0, type: 'deposit', amount: 1 }, 'receivedAt 0');
  accepts(t, { ...base, id: '__proto__', accountId: 'constructor', type: 'deposit', amount: 1 }, 'JS-special words as plain ids');

  const buf = parseMessage(Buffer.from(JSON.stringify({ ...base, type: 'deposit', amount: 7 })));
  t.ok(buf.ok, 'a Buffer value');
  t.strictSame(buf.ok && buf.msg, { ...base, type: 'deposit', amount: 7 });
});

t.test('encodeMessage round trips through parseMessage', async (t) => {
  const msgs: LogMessage[] = [
    { v: 1, id: 'a', type: 'deposit', accountId: 'x', amount: 3, receivedAt: 9 },
    { v: 1, id: 'b', type: 'cancel', accountId: 'x', requestId: 'a', receivedAt: 9 },
    { v: 1, type: 'tick', receivedAt: 10 },
    { v: 1, type: 'clock', source: 'log-append-time', receivedAt: 11 },
    { v: 1, id: 'c', type: 'withdraw_request', accountId: 'x', amount: 3, expiresInSeconds: 60, holdLimit: 1000, receivedAt: 12 },
  ];
  for (const m of msgs) {
    const enc = encodeMessage(m);
    t.ok(Buffer.isBuffer(enc));
    t.strictSame(parseMessage(enc), { ok: true, msg: m });
  }
});

t.test('rejects what is not a JSON object', async (t) => {
  rejects(t, null, 'null', /empty/);
  rejects(t, undefined, 'undefined', /empty/);
  rejects(t, '', 'an empty string', /^not JSON/);
  rejects(t, '{"v":1,', 'broken JSON', /^not JSON/);
  rejects(t, 'NaN', 'NaN', /^not JSON/);
  rejects(t, Buffer.from([0xff, 0xfe, 0x00]), 'binary', /^not JSON/);
  for (const raw of ['null', '42', '"deposit"', '[]', 'true', '[{"v":1}]']) rejects(t, raw, `JSON ${raw}`);
});

t.test('rejects a wrong version or type', async (t) => {
  const ok = { ...base, type: 'deposit', amount: 1 };
  rejects(t, { ...ok, v: 2 }, 'v 2');
  rejects(t, { ...ok, v: '1' }, 'v as a string');
  const { v: _v, ...noV } = ok;
  rejects(t, noV, 'no v');
  rejects(t, { ...ok, type: 'transfer' }, 'an unknown type');
  rejects(t, { ...ok, type: 'expire' }, 'a ledger-only type');
  rejects(t, { ...ok, type: 'Deposit' }, 'a type in another case');
  rejects(t, { v: 2, type: 'tick', receivedAt: 1 }, 'a tick of v 2');
});

t.test('a clock marker has its own shape, and is no transaction', async (t) => {
  const marker = { v: 1, type: 'clock', source: 'log-append-time', receivedAt: 5 };
  accepts(t, marker, 'a clock marker');
  const parsed = parse(marker);
  t.equal(parsed.ok && isTransaction(parsed.msg), false, 'not a transaction: nothing is announced for it');
  const deposit = parse({ ...base, type: 'deposit', amount: 1 });
  t.equal(deposit.ok && isTransaction(deposit.msg), true, 'a deposit is one');
  rejects(t, { ...marker, source: 'receivedAt' }, 'another source');
  rejects(t, { v: 1, type: 'clock', receivedAt: 5 }, 'a marker without its source');
  rejects(t, { ...marker, accountId: 'a' }, 'a marker with an account');
  rejects(t, { ...marker, v: 2 }, 'a marker of v 2');
});

t.test('a withdrawal request may carry the hold limit in force, a positive integer', async (t) => {
  const ok = { ...base, type: 'withdraw_request', amount: 5, holdLimit: 1000 };
  accepts(t, ok, 'a request with its hold limit');
  for (const [bad, what] of [
    [0, 'zero'],
    [-1, 'negative'],
    [1.5, 'a fraction'],
    ['10', 'a string'],
  ] as const) {
    rejects(t, { ...ok, holdLimit: bad }, `holdLimit ${what}`);
  }
});

t.test('rejects unknown and missing fields', async (t) => {
  const ok = { ...base, type: 'deposit', amount: 1 };
  rejects(t, { ...ok, extra: 1 }, 'an unknown field');
  rejects(t, { ...ok, balance: 1_000_000 }, 'a balance smuggled in');
  rejects(t, { v: 1, type: 'tick', receivedAt: 1, accountId: 'a' }, 'a tick with an account');
  rejects(t, { v: 1, type: 'tick' }, 'a tick without receivedAt');
  for (const field of ['id', 'type', 'accountId', 'receivedAt'] as const) {
    const o: Record<string, unknown> = { ...ok };
    delete o[field];
    rejects(t, o, `no ${field}`);
  }
  rejects(t, '{"v":1,"id":"a","type":"deposit","accountId":"b","amount":1,"receivedAt":1,"__proto__":{"amount":5}}', 'a __proto__ key');
  rejects(t, '{"v":1,"id":"a","type":"deposit","accountId":"b","amount":1,"receivedAt":1,"constructor":{"prototype":{"x":1}}}', 'a constructor key');
  t.equal(({} as { amount?: unknown }).amount, undefined, 'no prototype pollution');
});

t.test('amounts are positive safe integers, nothing else', async (t) => {
  const bad: [unknown, string][] = [
    ['10', 'a string'],
    ['1e2', 'a numeric string'],
    [true, 'a boolean'],
    [null, 'null'],
    [[10], 'an array'],
    [{ $numberLong: '10' }, 'an extended-JSON object'],
    [0, 'zero'],
    [-1, 'negative'],
    [-0.5, 'negative fraction'],
    [1.5, 'fractional'],
    [0.1, 'a cent fraction'],
    [Number.MAX_SAFE_INTEGER + 1, '2^53'],
    [1e300, 'huge'],
  ];
  for (const type of ['deposit', 'withdraw_request', 'withdraw'] as const) {
    for (const [amount, what] of bad) rejects(t, { ...base, type, amount }, `${type} amount ${what}`);
    rejects(t, { ...base, type }, `${type} without amount`);
  }
  // JSON cannot carry NaN or Infinity: the encoder turns them into null, which is refused.
  rejects(t, { ...base, type: 'deposit', amount: NaN }, 'NaN (null in JSON)');
  rejects(t, { ...base, type: 'deposit', amount: Infinity }, 'Infinity (null in JSON)');
});

t.test('cancel carries a requestId and no amount', async (t) => {
  rejects(t, { ...base, type: 'cancel', requestId: 'r', amount: 5 }, 'a cancel with an amount');
  rejects(t, { ...base, type: 'cancel' }, 'a cancel without requestId', /requestId/);
  rejects(t, { ...base, type: 'cancel', requestId: '' }, 'a cancel with an empty requestId');
});

t.test('ids, account ids, requestIds by pattern and length', async (t) => {
  const ok = { ...base, type: 'deposit', amount: 1 };
  const badIds: [unknown, string][] = [
    ['', 'empty'],
    ['x'.repeat(241), 'too long'],
    ['a b', 'a space'],
    ['$gt', 'an operator'],
    ['a/b', 'a slash (the ledger id separator)'],
    ['a\nb', 'a newline'],
    ['é', 'non-ASCII'],
    ['a\u0000', 'a NUL'],
    [{ $gt: '' }, 'an operator object'],
    [{ __proto__: null, x: 1 }, 'an object'],
    [['a'], 'an array'],
    [7, 'a number'],
    [null, 'null'],
  ];
  for (const [id, what] of badIds) rejects(t, { ...ok, id }, `id: ${what}`);
  for (const [accountId, what] of badIds) rejects(t, { ...ok, accountId }, `accountId: ${what}`);
  rejects(t, { ...ok, accountId: 'a'.repeat(65) }, 'accountId: 65 chars');
  rejects(t, { ...ok, accountId: 'a~b' }, 'accountId: ~ is for system ids only');
  const w = { ...base, type: 'withdraw', amount: 1 };
  rejects(t, { ...w, requestId: 'r'.repeat(129) }, 'requestId: 129 chars');
  rejects(t, { ...w, requestId: 'r~1' }, 'requestId: ~ is for system ids only');
  rejects(t, { ...w, requestId: { $ne: null } }, 'requestId: an operator object');
  rejects(t, '{"v":1,"id":{"__proto__":{"x":1}},"type":"deposit","accountId":"b","amount":1,"receivedAt":1}', 'id: a __proto__ object');
  rejects(t, { ...ok, replyTo: 'a:b' }, 'replyTo outside its pattern');
});

t.test('timestamps are non-negative safe integers', async (t) => {
  const ok = { ...base, type: 'withdraw_request', amount: 1 };
  for (const [v, what] of [[-1, 'negative'], [1.5, 'fractional'], ['1', 'a string'], [2 ** 53, 'unsafe']] as const) {
    rejects(t, { ...ok, receivedAt: v }, `receivedAt ${what}`);
    rejects(t, { ...ok, expiresAt: v }, `expiresAt ${what}`);
  }
  rejects(t, { v: 1, type: 'tick', receivedAt: -5 }, 'a tick in the past of the epoch');
});

t.test('parseMessage never throws and only lets well-formed messages through', async (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (raw) => {
      const r = parseMessage(raw);
      if (!r.ok) return typeof r.reason === 'string' && r.reason.length > 0;
      const m = r.msg;
      if (m.type === 'tick' || m.type === 'clock') return Number.isSafeInteger(m.receivedAt);
      return m.type === 'cancel' ? m.amount === undefined : Number.isSafeInteger(m.amount) && m.amount! > 0;
    }),
    { numRuns: 2_000 },
  );
  const arbMsg = fc.record({
    v: fc.constant(1 as const),
    id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
    type: fc.constantFrom('deposit', 'withdraw_request', 'withdraw'),
    accountId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
    amount: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    receivedAt: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  });
  fc.assert(
    fc.property(arbMsg, (m) => {
      const r = parseMessage(JSON.stringify(m));
      return r.ok && JSON.stringify(r.msg) === JSON.stringify(m);
    }),
    { numRuns: 500 },
  );
  t.pass('properties held');
});

t.test('partitionOf', async (t) => {
  t.test('is FNV-1a 32 bit (pinned: api and consumers must agree across versions)', async (t) => {
    // Reference vectors of FNV-1a 32: "" -> 811c9dc5, "a" -> e40c292c, "foobar" -> bf9cf968.
    t.equal(partitionOf('', 2 ** 32), 0x811c9dc5);
    t.equal(partitionOf('a', 2 ** 32), 0xe40c292c);
    t.equal(partitionOf('foobar', 2 ** 32), 0xbf9cf968);
    t.equal(partitionOf('a', 12), 0xe40c292c % 12);
    t.equal(partitionOf('foobar', 12), 0xbf9cf968 % 12);
  });
  t.test('is stable and in range', async (t) => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), fc.integer({ min: 1, max: 1_000 }), (id, n) => {
        const p = partitionOf(id, n);
        return Number.isInteger(p) && p >= 0 && p < n && partitionOf(id, n) === p;
      }),
      { numRuns: 2_000 },
    );
    t.equal(partitionOf('anything', 1), 0);
  });
  t.test('spreads 10,000 account ids over 12 partitions', async (t) => {
    for (const make of [(i: number) => `acct-${i}`, (i: number) => String(i), (i: number) => `user:${i * 7919}`]) {
      const counts = new Array<number>(12).fill(0);
      for (let i = 0; i < 10_000; i++) counts[partitionOf(make(i), 12)]! += 1;
      t.equal(counts.reduce((a, b) => a + b, 0), 10_000);
      t.ok(Math.min(...counts) > 0, `${make(1)}...: no empty partition`);
      // A fair spread is 833 each; allow a generous 25%.
      t.ok(Math.min(...counts) > 625 && Math.max(...counts) < 1_042, `${make(1)}...: balanced (${counts.join(' ')})`);
    }
  });
});

t.test("the call's token, the request's time to live and the client's claimed time", async (t) => {
  accepts(t, { ...base, type: 'deposit', amount: 1, replyTo: 'api-1', callId: '0f3a9c2b71de.1z' }, 'a deposit with its call token');
  accepts(t, { ...base, type: 'withdraw_request', amount: 1, expiresAt: 1_700_000_060_000, expiresInSeconds: 60 }, 'a request with its time to live');
  accepts(t, { ...base, type: 'deposit', amount: 1, clientTimestamp: '2024-01-01T00:00:00.000Z' }, "a client's claimed time");
  accepts(t, { ...base, type: 'deposit', amount: 1, clientTimestamp: '+275760-09-13T00:00:00.000Z' }, 'a claimed time with a six-digit year');
  const ok = { ...base, type: 'withdraw_request', amount: 1 };
  rejects(t, { ...ok, callId: '' }, 'an empty token');
  rejects(t, { ...ok, callId: 'a/b' }, 'a token with a slash');
  rejects(t, { ...ok, callId: 'x'.repeat(65) }, 'a token too long');
  rejects(t, { ...ok, expiresInSeconds: 0 }, 'a time to live of 0');
  rejects(t, { ...ok, expiresInSeconds: 1.5 }, 'a fractional time to live');
  rejects(t, { ...ok, expiresInSeconds: '60' }, 'a time to live as a string');
  rejects(t, { ...ok, clientTimestamp: 'yesterday' }, 'a claimed time that is no time');
  rejects(t, { ...ok, clientTimestamp: '2024-01-01T00:00:00Z' }, 'a claimed time not in the ledger form');
  rejects(t, { ...ok, clientTimestamp: 1_704_067_200_000 }, 'a claimed time as a number');
});

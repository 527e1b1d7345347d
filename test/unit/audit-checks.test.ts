// The audit's checks must catch each kind of violation they name.
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import type { LedgerDoc, LogMessage, TxMessage } from '../../common/types.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { auditLedger, checkAcknowledged, checkInvariants, checkTotals, compareWithReplay } from '../../scripts/operations/audit-checks.js';
import { accountsChangedAfterCut, beforeCut, checkReadModel, newestStates, readModelState, type ReadModelState } from '../../scripts/operations/audit-cut.js';

let offset = 0;
function doc(accountId: string, id: string, type: LedgerDoc['type'], amount: number, balanceAfter: number, reservedAfter = 0, extra: Partial<LedgerDoc> = {}): LedgerDoc {
  const status = type === 'withdraw_request' ? 'approved' : 'applied';
  const at = offset++;
  return { _id: `0:${at}`, id, accountId, type, amount, status, balanceAfter, reservedAfter, partition: 0, offset: at, receivedAt: 1, ...extra };
}

/** An account's hash in Redis: balance, reserved, and the offset of the change last written. */
const hash = (balance: number | bigint, reserved: number | bigint, offset?: number): ReadModelState => ({ balance: BigInt(balance), reserved: BigInt(reserved), offset });
/** A cut past every document of these tests. */
const noCut = new Map<number, number>();

const good = () => {
  offset = 0;
  return [
    doc('a', '1', 'deposit', 100, 100),
    doc('a', '2', 'withdraw_request', 60, 100, 60),
    doc('a', '3', 'withdraw', 60, 40, 0),
    doc('a', '4', 'withdraw', 50, -10, 0, { overdraft: true }),
    doc('b', '5', 'deposit', 5, 5),
  ];
};

t.same(checkInvariants(good()), [], 'a correct ledger passes');

t.test('each violation is named with its ids', async (t) => {
  const names = (docs: LedgerDoc[]) => checkInvariants(docs).map((v) => [v.check, v.ids]);
  const docs = good();
  docs[0]!.balanceAfter = 101;
  t.match(names(docs), [['conservation', ['1']]], 'money created');

  const reserved = good();
  reserved[2]!.reservedAfter = -1;
  t.match(names(reserved), [['reserved-never-negative', ['3']]]);

  const over = good();
  over[1]!.reservedAfter = 101;
  t.match(names(over), [['no-approval-beyond-available', ['2']]]);

  const unflagged = good();
  delete unflagged[3]!.overdraft;
  t.match(names(unflagged), [['past-limit-only-by-flagged-overdraft', ['4']], ['overdraft-flag-correct', ['4']]]);

  const twice = good();
  twice.push(doc('a', '1', 'deposit', 1, -9));
  t.same(names(twice), [['each-id-once', ['1']]], 'an id applied twice on one account');

  const elsewhere = good();
  elsewhere.push(doc('c', '1', 'deposit', 1, 1));
  t.same(names(elsewhere), [], 'ids are per account: the same id on another account is another transaction');
});

t.test('each-id-once: an id re-sent after the id window is a new transaction', async (t) => {
  offset = 0;
  const docs = [
    doc('a', 'x', 'deposit', 10, 10, 0, { receivedAt: 1_000 }),
    doc('a', 'x', 'deposit', 10, 20, 0, { receivedAt: 6_000 }),
    doc('a', 'y', 'deposit', 1, 21, 0, { receivedAt: 6_000 }),
  ];
  t.same(checkInvariants(docs, 4_999), [], 'decided anew after the window: not flagged');
  t.match(
    checkInvariants(docs, 5_000).map((v) => [v.check, v.ids]),
    [['each-id-once', ['x']]],
    'within the window (its bound included): flagged',
  );
  t.match(checkInvariants(docs).map((v) => [v.check, v.ids]), [['each-id-once', ['x']]], 'without a window, any repeat');
  // Judged against the previous decision of the id, in time order whatever the log order.
  docs.push(doc('a', 'x', 'deposit', 5, 26, 0, { receivedAt: 5_500 }));
  t.match(checkInvariants(docs, 4_999).map((v) => [v.check, v.ids]), [['each-id-once', ['x']]], 'a third one between the two, later in the log: both later ones are repeats');
  t.match(checkInvariants(docs, 4_999)[0]?.detail, /applied 3 times on a, 2 within the id window/);
});

t.test('an account comes into being with its first change', async (t) => {
  offset = 0;
  const docs = [
    doc('ghost', 'r', 'withdraw_request', 10, 0, 0, { status: 'denied', reason: 'insufficient_funds' }),
    doc('ghost', 'c', 'cancel', 0, 0, 0, { status: 'not_found', reason: 'request_not_held' }),
    doc('a', 'r2', 'withdraw_request', 10, 0, 0, { status: 'denied', reason: 'insufficient_funds' }),
    doc('a', 'd', 'deposit', 10, 10),
    doc('a', 'w', 'withdraw', 10, 0),
    doc('a', 'r3', 'withdraw_request', 1, 0, 0, { status: 'denied', reason: 'insufficient_funds' }),
  ];
  t.same(checkInvariants(docs), [], 'decisions on an unknown account are valid ledger entries');
  const states = newestStates(docs);
  t.same([...states], [['a', { balance: 0n, reserved: 0n, partition: 0, offset: 5 }]], 'ghost never came into being; a did, and stays at zero');
  t.same(checkReadModel(states, new Map([['a', hash(0, 0, 5)]]), noCut), [], 'no read model entry needed for ghost');
  t.match(checkReadModel(states, new Map(), noCut), [{ check: 'read-model-equals-ledger', ids: ['a'] }]);
});

t.test('acknowledged, read model and replay comparisons', async (t) => {
  const docs = good();
  t.same(checkAcknowledged(docs, [{ id: '1', accountId: 'a' }]), []);
  t.match(checkAcknowledged(docs, [{ id: '9', accountId: 'a' }]), [{ check: 'acknowledged-present', ids: ['9'] }]);

  const states = newestStates(docs);
  t.same(states.get('a'), { balance: -10n, reserved: 0n, partition: 0, offset: 3 });
  t.same(checkReadModel(states, new Map([['a', hash(-10, 0, 3)], ['b', hash(5, 0, 4)]]), noCut), []);
  t.match(checkReadModel(states, new Map([['a', hash(-10, 0, 3)]]), noCut), [{ check: 'read-model-equals-ledger', ids: ['b'] }]);

  t.same(compareWithReplay(docs, good()), [], 'identical replay');
  const replay = good();
  replay[4]!.balanceAfter = 6;
  replay.push(doc('d', '7', 'deposit', 1, 1));
  t.match(compareWithReplay(docs.slice(1), replay), [
    { check: 'replay-missing', ids: ['0:0', '0:5'] },
    { check: 'replay-differs', ids: ['0:4'] },
  ]);
  t.match(compareWithReplay(docs, docs.slice(1)), [{ check: 'replay-extra', ids: ['0:0'] }]);

  // An id decided anew after the window: two documents, one per log position, both compared.
  offset = 0;
  const renewed = [doc('a', 'x', 'deposit', 10, 10, 0, { receivedAt: 1 }), doc('a', 'x', 'deposit', 10, 20, 0, { receivedAt: 9 })];
  t.same(compareWithReplay(renewed, renewed.map((d) => ({ ...d }))), [], 'both present');
  t.match(compareWithReplay(renewed.slice(0, 1), renewed), [{ check: 'replay-missing', ids: ['0:1'] }], 'the second one is not lost');
});

const MAX = Number.MAX_SAFE_INTEGER;
const names = (docs: LedgerDoc[]) => checkInvariants(docs).map((v) => [v.check, v.ids]);

t.test('sums are exact past 2^53: a cent lost to rounding is caught', async (t) => {
  offset = 0;
  // What the rules did before balances were bounded: 2^53 - 1, then two deposits of 1, the balance
  // 2^53 both times. A float sum of the deposits rounds 2^53 + 1 to 2^53 and agrees with it.
  const lost = [doc('a', '1', 'deposit', MAX, MAX), doc('a', '2', 'deposit', 1, MAX + 1), doc('a', '3', 'deposit', 1, MAX + 2)];
  t.equal(MAX + 2, MAX + 1, 'the two balances are one number');
  t.match(checkInvariants(lost).find((v) => v.check === 'conservation'), { ids: ['3'], detail: /balance 9007199254740992 but the money in minus out = 9007199254740993/ });
  t.same(
    checkInvariants(lost).filter((v) => v.check === 'exact-amounts').map((v) => v.ids),
    [['2'], ['3']],
    'a balance past 2^53 - 1 is flagged itself',
  );

  offset = 0;
  const wide = [doc('a', '1', 'deposit', MAX, MAX), doc('b', '2', 'deposit', MAX, MAX), doc('c', '3', 'deposit', 1, 1)];
  const { violations, totals } = auditLedger(wide);
  t.same(violations, [], 'balances each within range: the ledger is correct');
  t.equal(totals.deposited, 2n ** 54n - 1n, 'the total past 2^53 is exact');
  t.equal(totals.balances, 2n ** 54n - 1n);
  t.not(BigInt(MAX + MAX + 1), 2n ** 54n - 1n, 'where a float sum is off by one');
  t.match(checkTotals({ ...totals, balances: totals.balances + 1n }), [{ check: 'total-conservation' }], 'one unit off in the totals is flagged');
  t.match(checkTotals({ ...totals, held: 1n }), [{ check: 'total-reserved' }]);
});

t.test('a denied deposit or withdrawal changes no balance and is not counted', async (t) => {
  offset = 0;
  const docs = [
    doc('a', '1', 'deposit', MAX, MAX),
    doc('a', '2', 'deposit', 1, MAX, 0, { status: 'denied', reason: 'balance_out_of_range' }),
    doc('b', '3', 'withdraw', MAX, -MAX, 0, { overdraft: true }),
    doc('b', '4', 'withdraw', 1, -MAX, 0, { status: 'denied', reason: 'balance_out_of_range' }),
  ];
  const { violations, totals } = auditLedger(docs);
  t.same(violations, [], 'denied at the edge of the range: no violation');
  t.same([totals.deposited, totals.withdrawn, totals.balances], [BigInt(MAX), BigInt(MAX), 0n], 'only the applied ones count');
  docs[1]!.balanceAfter = MAX - 1;
  t.match(names(docs), [['conservation', ['2']]], 'a denied deposit that moved the balance is flagged');
});

t.test('reserved is the sum of the open holds', async (t) => {
  offset = 0;
  const lapsed = (hold: string, amount: number, balance: number, reserved: number, ordinal: number, at: number): LedgerDoc => ({
    ...doc('a', `${hold}~expired`, 'expire', amount, balance, reserved, { requestId: hold, offset: at }),
    _id: `0:${at}:${ordinal}:${hold}~expired`,
  });
  const docs = [
    doc('a', 'd', 'deposit', 100, 100),
    doc('a', 'r1', 'withdraw_request', 10, 100, 10),
    doc('a', 'r2', 'withdraw_request', 20, 100, 30),
    doc('a', 'r3', 'withdraw_request', 30, 100, 60),
    doc('a', 'r4', 'withdraw_request', 5, 100, 65),
    doc('a', 'w1', 'withdraw', 15, 85, 50), // oldest first: all of r1, 5 of r2
    doc('a', 'w2', 'withdraw', 1, 84, 20, { requestId: 'r3' }), // settles r3 whole
    doc('a', 'w3', 'withdraw', 1, 83, 20, { requestId: 'r9', reason: 'request_not_held' }),
    doc('a', 'c', 'cancel', 0, 83, 20, { status: 'not_found', reason: 'request_not_held', requestId: 'r3' }),
    doc('a', 'r5', 'withdraw_request', 500, 83, 20, { status: 'denied', reason: 'insufficient_funds' }),
  ];
  // Both left lapse at one tick, stored in the other order: the ordinal of their _id orders them.
  docs.push(lapsed('r4', 5, 83, 0, 1, 20), lapsed('r2', 15, 83, 5, 0, 20));
  const { violations, totals } = auditLedger(docs);
  t.same(violations, [], 'settles, partial consumption, misses and lapses all followed');
  t.same([totals.reserved, totals.held], [0n, 0n]);
  t.same(newestStates(docs).get('a'), { balance: 83n, reserved: 0n, partition: 0, offset: 20 }, 'the last lapse is the newest state');

  offset = 0;
  // One request id held twice: re-sent after the id window while its first hold was open. The
  // second, shorter one lapses first; the lapse's amount tells which.
  const twice = [
    doc('a', 'd', 'deposit', 100, 100),
    doc('a', 'r', 'withdraw_request', 10, 100, 10),
    doc('a', 'r', 'withdraw_request', 20, 100, 30, { receivedAt: 9 }),
    lapsed('r', 20, 100, 10, 0, 3),
    doc('a', 'w', 'withdraw', 4, 96, 6),
  ];
  t.same(checkInvariants(twice, 1), [], 'the other hold stays, and a later withdrawal consumes it');

  docs[6]!.reservedAfter = 35; // as if w2 had settled 15 of r3 rather than all of it
  t.match(names(docs), [['reserved-equals-holds', ['w2']]], 'a reserved that is no sum of the holds is flagged');
});

t.test('the read model is compared at one cut of offsets', async (t) => {
  offset = 0;
  // A hold lapses by a tick at offset 5, after the cut at 3: the audit read Redis after the tick was
  // written, or read a ledger the tick's document had already reached.
  const all = [
    doc('a', 'd', 'deposit', 100, 100),
    doc('a', 'r', 'withdraw_request', 60, 100, 60),
    doc('b', 'e', 'deposit', 7, 7),
    { ...doc('a', 'r~expired', 'expire', 60, 100, 0, { requestId: 'r', offset: 5 }), _id: '0:5:0:r~expired' },
  ];
  const cut = new Map([[0, 3]]);
  const docs = beforeCut(all, cut);
  t.same(docs.map((d) => d.offset), [0, 1, 2], 'documents after the cut are left out');
  const states = newestStates(docs);
  const atCut = new Map([['a', hash(100, 60, 1)], ['b', hash(7, 0, 2)]]);
  t.same(checkReadModel(states, atCut, cut), [], 'Redis at offset 1, the ledger past it: not flagged');
  t.match(checkReadModel(newestStates(all), atCut, new Map()), [{ check: 'read-model-equals-ledger', ids: ['a'] }], 'what comparing with the newest documents flagged');

  const lapsedAlready = new Map([['a', hash(100, 0, 5)], ['b', hash(7, 0, 2)]]);
  t.same(checkReadModel(states, lapsedAlready, cut), [], 'Redis moved past the cut: not compared');
  t.same(accountsChangedAfterCut(states, lapsedAlready, cut), ['a'], 'and counted');

  t.match(checkReadModel(states, new Map([['a', hash(99, 60, 1)], ['b', hash(7, 0, 2)]]), cut), [{ check: 'read-model-equals-ledger', ids: ['a'] }], 'a real mismatch at the cut is flagged');
  t.match(checkReadModel(states, new Map([['a', hash(100, 0, 0)], ['b', hash(7, 0, 2)]]), cut), [{ check: 'read-model-equals-ledger', ids: ['a'] }], 'Redis behind a change before the cut');
  const unchanged = [...docs, doc('b', 'x', 'withdraw_request', 50, 7, 0, { status: 'denied', reason: 'insufficient_funds', offset: 2 })];
  unchanged[2]!.offset = 1;
  t.match(
    checkReadModel(newestStates(unchanged), new Map([['a', hash(100, 60, 1)], ['b', hash(7, 0, 1)]]), cut),
    [{ check: 'read-model-not-behind', ids: ['b'] }],
    'a missed write is flagged even where the values happen to agree',
  );
});

t.test('a read-model hash as Redis returns it', async (t) => {
  t.same(readModelState(['9007199254740993', '0', '12']), { balance: 9007199254740993n, reserved: 0n, offset: 12 }, 'read exactly');
  t.same(readModelState(['5', null, null]), { balance: 5n, reserved: 0n, offset: undefined });
  t.equal(readModelState([null, null, null]), undefined, 'no hash');
  t.equal(readModelState(['1e+21', '0', '3']), undefined, 'not an integer: no ledger state equals it');
  t.equal(readModelState(['1.5', '0', '3']), undefined);
});

t.test('the ledger the rules write passes the audit, in whatever order it is read', async (t) => {
  // Random logs through the partition state machine: settles by name and oldest first, cancels,
  // lapses at ticks (several at one offset), ids re-sent after a short id window while their first
  // hold is open, balances at the edge of 2^53. The checks must find nothing, and the newest
  // states must be the partition's own.
  const accounts = ['a', 'b', 'c'];
  const op = fc.record({
    kind: fc.constantFrom('deposit', 'request', 'request', 'withdraw', 'capture', 'cancel', 'tick', 'resend'),
    account: fc.nat(2),
    amount: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 100 }) }, { weight: 1, arbitrary: fc.constant(MAX) }),
    ttl: fc.integer({ min: 0, max: 400 }),
    ref: fc.nat(),
    dt: fc.integer({ min: 0, max: 120 }),
  });
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 60, size: 'max' }), fc.constantFrom(1e12, 200), fc.nat(), (ops, windowMs, seed) => {
      const ledger = new PartitionLedger(0, windowMs);
      const requests: TxMessage[] = [];
      const docs: LedgerDoc[] = [];
      let now = 1_000;
      ops.forEach((o, offset) => {
        now += o.dt;
        const base = { v: 1 as const, id: `t${offset}`, accountId: accounts[o.account]!, receivedAt: now };
        const known = requests[o.ref % Math.max(1, requests.length)];
        let msg: LogMessage;
        if (o.kind === 'tick') msg = { v: 1, type: 'tick', receivedAt: now };
        else if (o.kind === 'deposit' || o.kind === 'withdraw') msg = { ...base, type: o.kind, amount: o.amount };
        else if (o.kind === 'capture' || o.kind === 'cancel') {
          const target = { ...base, accountId: known?.accountId ?? base.accountId, requestId: known?.id ?? 'none' };
          msg = o.kind === 'cancel' ? { ...target, type: 'cancel' } : { ...target, type: 'withdraw', amount: o.amount };
        } else {
          const id = o.kind === 'resend' && known ? known.id : base.id;
          const accountId = o.kind === 'resend' && known ? known.accountId : base.accountId;
          msg = { ...base, id, accountId, type: 'withdraw_request', amount: o.amount, expiresAt: now + o.ttl };
          requests.push(msg);
        }
        docs.push(...ledger.apply(msg, offset).docs);
      });
      const place = (i: number) => ((i + 1) * 2_654_435_761 + seed) % 1_000_003;
      const shuffled = docs.map((d, i) => ({ d, at: place(i) })).sort((x, y) => x.at - y.at).map(({ d }) => d);
      deepStrictEqual(auditLedger(shuffled, windowMs).violations, []);
      const expected = [...ledger.accountIds()].map((id) => [id, BigInt(ledger.account(id)!.balance), BigInt(ledger.account(id)!.reserved)]);
      const states = [...newestStates(shuffled)].map(([id, s]) => [id, s.balance, s.reserved]);
      deepStrictEqual(new Map(states.map((s) => [s[0], s])), new Map(expected.map((s) => [s[0], s])));
    }),
    { numRuns: 500 },
  );
  t.pass('no violation in any of them');
});

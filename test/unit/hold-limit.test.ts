// The bound on open holds per account (MAX_HOLDS_PER_ACCOUNT): a withdrawal
// request carries the limit in force, the rules deny one past it with reason
// hold_limit whatever its amount, the decision is remembered like any other,
// a message without the limit is unbounded, and the api answers 402.
import t from 'tap';
import { readConfig, ConfigError } from '../../common/config.js';
import { decide, EMPTY_ACCOUNT, type Account, type Hold, type Position } from '../../consumer/ledger.js';
import { PartitionLedger } from '../../consumer/partition.js';
import { applied, build, HOLD_LIMIT } from '../helpers/in-memory-app.js';
import { deepFreeze, deposit, request, withdraw } from '../helpers/tx.js';

const DAY = 86_400_000;
const pos: Position = { partition: 0, offset: 9, clock: 5_000 };

function withHolds(balance: number, count: number): Account {
  const holds: Hold[] = Array.from({ length: count }, (_, i) => ({ id: `h${i}`, amount: 1, expiresAt: Number.MAX_SAFE_INTEGER }));
  return deepFreeze({ balance, reserved: count, updatedAt: 1, holds });
}

t.test('a request on an account at the limit is denied (hold_limit), whatever its amount; below it, funds decide', async (t) => {
  const below = decide(withHolds(100, 2), request('r', 'acc', 5, { holdLimit: 3 }), pos);
  t.equal(below.outcome.status, 'approved', 'two holds, a limit of three');
  t.equal(below.account.holds.length, 3);

  const at = decide(withHolds(100, 3), request('r', 'acc', 5, { holdLimit: 3 }), pos);
  t.match(at.outcome, { status: 'denied', reason: 'hold_limit', balance: 100, reserved: 3 });
  t.match(at.doc, { status: 'denied', reason: 'hold_limit', amount: 5 }, 'documented like any decision');
  t.equal(at.account.holds.length, 3, 'nothing held');

  const broke = decide(withHolds(3, 3), request('r', 'acc', 50, { holdLimit: 3 }), pos);
  t.equal(broke.outcome.reason, 'hold_limit', 'before the funds: the limit is named even when the funds would refuse too');

  const unbounded = decide(withHolds(100, 3), request('r', 'acc', 5), pos);
  t.equal(unbounded.outcome.status, 'approved', 'a message without the limit (older records): no limit');
  t.equal(decide(EMPTY_ACCOUNT, deposit('d', 'acc', 5, { holdLimit: 1 }), pos).outcome.status, 'applied', 'other types ignore it');
});

t.test('a hold released makes room again; a denial is remembered and replayed, and a replay is one even under another limit', async (t) => {
  const p = new PartitionLedger(0, DAY);
  p.apply(deposit('d', 'acc', 100), 0);
  p.apply(request('r1', 'acc', 10, { holdLimit: 1 }), 1);
  const denied = p.apply(request('r2', 'acc', 10, { holdLimit: 1 }), 2);
  t.match(denied.outcome, { status: 'denied', reason: 'hold_limit' });
  t.strictSame(denied.touched, ['acc'], 'documented on the account, as a denial for funds is');
  const replay = p.apply(request('r2', 'acc', 10, { holdLimit: 5 }), 3);
  t.match(replay.outcome, { status: 'denied', reason: 'hold_limit', replayed: true }, 'the limit is not part of the body');
  p.apply(withdraw('w', 'acc', 10, { requestId: 'r1' }), 4);
  t.equal(p.apply(request('r3', 'acc', 10, { holdLimit: 1 }), 5).outcome?.status, 'approved', 'the settled hold made room');
});

t.test('MAX_HOLDS_PER_ACCOUNT: 1,000 by default, a positive integer up to a million', async (t) => {
  t.equal(readConfig({}).maxHoldsPerAccount, 1000);
  t.equal(readConfig({ MAX_HOLDS_PER_ACCOUNT: '5' }).maxHoldsPerAccount, 5);
  for (const bad of ['0', '-1', '1.5', 'many', '1000001']) {
    t.throws(() => readConfig({ MAX_HOLDS_PER_ACCOUNT: bad }), ConfigError, `refuses ${bad}`);
  }
});

t.test('the api sends its limit with every withdrawal request, and answers a hold_limit denial 402', async (t) => {
  const { app, log } = await build(t);
  log.decide = (msg) => ({ ...applied(msg), status: 'denied', reason: 'hold_limit', balance: 100, reserved: 30 });
  const v1 = await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/withdrawal-requests', payload: { id: 'r1', amount: 5 } });
  t.equal(v1.statusCode, 402);
  t.same(v1.json(), { id: 'r1', accountId: 'acct-1', type: 'withdraw_request', amount: 5, status: 'denied', reason: 'hold_limit', balance: 100, reserved: 30, decidedAt: '2024-01-02T03:04:05.000Z' });
  const compatibility = await app.inject({ method: 'POST', url: '/transaction', payload: { id: 'r2', type: 'withdraw_request', amount: 5, accountId: 'acct-1' } });
  t.equal(compatibility.statusCode, 402);
  t.match(compatibility.json(), { status: 'denied', reason: 'hold_limit' });
  t.match(
    log.sent.map((m) => [m.id, m.holdLimit]),
    [
      ['r1', HOLD_LIMIT],
      ['r2', HOLD_LIMIT],
    ],
  );
  await app.inject({ method: 'POST', url: '/v1/accounts/acct-1/deposits', payload: { id: 'd1', amount: 5 } });
  t.equal(log.sent.at(-1)?.holdLimit, undefined, 'a deposit carries none');
});

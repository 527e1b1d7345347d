// Explanations of decisions (consumer/explanation.ts, docs/explanations.md):
// a partition replayed from a starting state up to a record gives the outcome
// the owner gave, by the rule the outcome tables name, with the inputs the
// rule read; and an input changed (a balance a unit lower, a status, a clock
// past a hold's lapse) changes what the same record is decided to.
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { LedgerDoc } from '../../common/types.js';
import { explainRecord, matchesLedger, NothingToExplain, type Explanation } from '../../consumer/explanation.js';
import type { Account } from '../../consumer/ledger.js';
import type { PartitionSnapshot } from '../../consumer/partition.js';
import { RULE_NAMES } from '../../consumer/rule-names.js';
import { clockAt, NAMES, offsetOf, PARTITION, RULES_NOT_REACHED, runLive, WINDOW_MS, type LiveRun } from '../helpers/explained-log.js';

const run = runLive();

/** The record at `offset` explained, replayed from `start` (a stored state at or before it; absent: the log's start). */
function explain(offset: number, start?: PartitionSnapshot, documentId?: string, from: LiveRun = run): Promise<Explanation> {
  const first = start?.offset ?? 0;
  const target = documentId === undefined ? { offset } : { offset, documentId };
  return explainRecord({ partition: PARTITION, ...(start && { snapshot: start }) }, from.records.slice(first, offset + 1), target, WINDOW_MS, from.lookUp);
}

/** The decision document the live run wrote at `offset`, if any. */
const recordedAt = (offset: number): LedgerDoc | undefined => run.documents[offset]!.find((d) => d._id === `${PARTITION}:${offset}`);

/** A stored state with one account changed. */
function withAccount(state: PartitionSnapshot, accountId: string, change: (account: Account) => Account): PartitionSnapshot {
  return { ...state, accounts: state.accounts.map(([id, account]): [string, Account] => [id, id === accountId ? change(account) : account]) };
}

const decided = NAMES.map((name, offset) => ({ name, offset })).filter(({ name }) => name !== 'hold-lapsed');

t.test('every record is explained with the outcome it was answered, by the rule its row names, matching the ledger', async (t) => {
  for (const { name, offset } of decided) {
    const rule = name.split(' ')[0];
    // From the log's start, from the state just before the record (whatever it repeats is read from the ledger), and from half way.
    for (const start of [undefined, run.before[offset], run.before[Math.floor(offset / 2)]]) {
      const ex = await explain(offset, start);
      const from = start ? `from ${start.offset}` : 'from the start';
      t.strictSame(ex.outcome, run.outcomes[offset], `${name} ${from}: the outcome answered`);
      t.equal(ex.rule, rule, `${name} ${from}: rule ${rule}`);
      t.ok(matchesLedger(ex, recordedAt(offset)), `${name} ${from}: the ledger's document again`);
      t.same(ex.replay, { from: start ? 'snapshot' : 'log-start', startOffset: start?.offset ?? 0, records: offset + 1 - (start?.offset ?? 0) });
    }
  }
});

t.test('every rule of the outcome tables is reached by the scenario, but the ones it cannot reach', async (t) => {
  const reached = new Set<string>();
  for (const { offset } of decided) reached.add((await explain(offset)).rule);
  reached.add((await explain(offsetOf('hold-lapsed'), undefined, `${PARTITION}:${offsetOf('hold-lapsed')}:0:r6~expired`)).rule);
  t.strictSame(RULE_NAMES.filter((rule) => !reached.has(rule)), RULES_NOT_REACHED);
});

t.test('the inputs each rule read', async (t) => {
  const denied = await explain(offsetOf('request-insufficient-funds'));
  t.match(denied.account, { exists: true, balance: 100, reserved: 60, available: 40, overdraftLimit: 0, status: 'open', openHolds: 1 });
  t.ok(denied.account.available < denied.outcome!.amount!, 'available below the amount asked');
  t.equal(denied.holdLimit, 5);
  t.same(denied.clock, { at: clockAt(offsetOf('request-insufficient-funds')), source: 'receivedAt' });

  const limited = await explain(offsetOf('request-hold-limit'));
  t.match(limited, { holdLimit: 1, account: { openHolds: 1, available: 40 }, outcome: { status: 'denied', reason: 'hold_limit' } });

  const settled = await explain(offsetOf('withdrawal-settles-hold'));
  t.match(settled.holds, [{ id: 'r1', amount: 60 }], 'the hold its requestId names');
  t.notOk(settled.outcome!.overdraft, 'no overdraft');
  const consumed = await explain(offsetOf('withdrawal-consumes-holds'));
  t.match(consumed.holds, [{ id: 'r4', amount: 30 }], 'every request hold, oldest first');
  t.equal(consumed.outcome!.overdraft, true, 'below zero: overdraft');
  t.match((await explain(offsetOf('cancel-releases-hold'))).holds, [{ id: 'r5', amount: 20 }]);
  t.same((await explain(offsetOf('cancel-not-held'))).holds, [], 'no hold under that id');

  const repeat = await explain(offsetOf('repeat'), run.before[offsetOf('repeat')]);
  t.strictSame(repeat.remembered, run.outcomes[0], 'the first outcome, read back from the ledger');
  t.equal(repeat.outcome!.replayed, true);
  const conflict = await explain(offsetOf('id-reused'));
  t.strictSame(conflict.remembered, run.outcomes[0]);
  t.match(conflict.outcome, { status: 'conflict', reason: 'id_reused' });
  t.strictSame((await explain(offsetOf('reversal-applied'))).original, run.outcomes[offsetOf('deposit d2')], 'the deposit it reverses');
  t.match((await explain(offsetOf('debit-account-frozen'))).account, { status: 'frozen' });
  t.match((await explain(offsetOf('debit-account-closed'))).account, { status: 'closed', exists: true });
  t.match((await explain(offsetOf('post-applied'))).holds, [{ id: 'p1', amount: 20, counterparty: 'a' }]);
});

t.test('a lapse is explained by the clock that reached its hold', async (t) => {
  const offset = offsetOf('hold-lapsed');
  const documentId = `${PARTITION}:${offset}:0:r6~expired`;
  for (const start of [undefined, run.before[offset]]) {
    const ex = await explain(offset, start, documentId);
    t.equal(ex.rule, 'hold-lapsed');
    t.strictSame(ex.lapse, run.documents[offset]![0], 'the lapse the owner wrote');
    t.match(ex.holds, [{ id: 'r6', amount: 25 }]);
    t.ok(ex.holds[0]!.expiresAt <= ex.clock.at, 'the clock reached the lapse time');
    t.ok(matchesLedger(ex, run.documents[offset]![0]));
  }
  await t.rejects(explain(offset), NothingToExplain, 'a tick decides nothing of its own');
});

t.test('a replay never sees the future: a repeat before a cancel reads its request approved, though the ledger holds the cancel', async (t) => {
  const offset = offsetOf('repeat before the cancel');
  const ex = await explain(offset, run.before[offset]);
  t.match(ex.outcome, { id: 'r5', status: 'approved', replayed: true });
  t.ok(run.db.match({ id: 'c1' }).length === 1, 'the cancel after it is in the ledger');
});

t.test('one input changed changes the decision', async (t) => {
  const request = offsetOf('request-approved r4');
  const exactly = withAccount(run.before[request]!, 'a', (a) => ({ ...a, balance: 30 }));
  t.match((await explain(request, exactly)).outcome, { status: 'approved' }, 'available exactly the amount: approved');
  const short = await explain(request, withAccount(exactly, 'a', (a) => ({ ...a, balance: 29 })));
  t.match(short, { rule: 'request-insufficient-funds', outcome: { status: 'denied', reason: 'insufficient_funds' }, account: { available: 29 } }, 'a unit lower: denied');

  const frozen = await explain(request, withAccount(run.before[request]!, 'a', (a) => ({ ...a, status: 'frozen' })));
  t.match(frozen, { rule: 'debit-account-frozen', outcome: { status: 'denied', reason: 'account_frozen' } });
  const deposit = offsetOf('deposit d2');
  const closed = await explain(deposit, withAccount(run.before[deposit]!, 'a', (a) => ({ ...a, status: 'closed' })));
  t.match(closed, { rule: 'credit-account-closed', outcome: { status: 'denied', reason: 'account_closed' } });

  // The hold the withdrawal names lapsed by the time it is read: it settles nothing.
  const capture = offsetOf('withdrawal-settles-hold');
  const lapsing = withAccount(run.before[capture]!, 'a', (a) => ({ ...a, holds: a.holds.map((h) => ({ ...h, expiresAt: clockAt(capture) })) }));
  const late = await explain(capture, lapsing);
  t.match(late, { rule: 'withdrawal-request-not-held', outcome: { status: 'applied', reason: 'request_not_held' }, holds: [] });
  t.match(late.lapsedHolds, [{ id: 'r1' }], 'the hold lapsed at this record, before its decision');
});

t.test('a start after the record is refused', async (t) => {
  await t.rejects(explain(3, run.before[5]), /before the replay's start/);
});

t.test('docs/explanations.md names every rule, and no other', async (t) => {
  const doc = readFileSync(new URL('../../docs/explanations.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('### Rule names'), doc.indexOf('## Shadow replay'));
  const documented = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
  t.strictSame(documented, [...RULE_NAMES]);
});

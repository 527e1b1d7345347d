// An account as of a time or a cut, read from the ledger (api/account-history.ts):
// documents decided by the real rules (consumer/partition.ts) into an
// in-memory collection, and the state read back at every point compared with
// the state the partition held there. Lapses share an offset with one
// another and with the decision after them; eleven of them at once put the
// last one's ordinal (10) where a comparison of text would not look.
import t from 'tap';
import { AccountHistory, lastOfOffset, type HistoryPoint, type PastAccount } from '../../api/account-history.js';
import { LedgerReads } from '../../api/ledger-reads.js';
import { PartitionLedger } from '../../consumer/partition.js';
import type { LedgerDoc, LogMessage } from '../../common/types.js';
import { MemoryCollection } from '../helpers/memory-collection.js';
import { apply, databaseOf, DAY } from '../helpers/partition-harness.js';
import { deposit, request, settings, tick } from '../helpers/tx.js';

const PARTITION = 3;

/** The log: offset, message and its receivedAt (the partition's clock source here). */
const messages: LogMessage[] = [
  deposit('d1', 'acc', 100, { receivedAt: 1_000 }),
  ...Array.from({ length: 11 }, (_, n) => request(`r${n}`, 'acc', 1, { receivedAt: 2_000, expiresAt: 5_000 })),
  settings('s1', 'acc', { overdraftLimit: 50 }, { receivedAt: 3_000 }),
  deposit('x', 'other', 1, { receivedAt: 4_000 }),
  tick(5_000),
  request('q', 'acc', 10, { receivedAt: 6_000, expiresAt: 9_000 }),
  settings('s2', 'acc', { accountStatus: 'frozen' }, { receivedAt: 7_000 }),
  deposit('d2', 'acc', 5, { receivedAt: 9_000 }),
  request('refused', 'acc', 1, { receivedAt: 9_500 }),
  settings('s3', 'acc', { overdraftLimit: 0 }, { receivedAt: 10_000 }),
];

/** What the partition held for `acc` right after each offset, with its clock then. */
interface Record {
  offset: number;
  clock: number;
  state: Omit<PastAccount, 'last'>;
}

function decide(): { docs: LedgerDoc[]; records: Record[] } {
  const p = new PartitionLedger(PARTITION, DAY);
  const records: Record[] = [];
  messages.forEach((msg, offset) => {
    apply(p, msg, offset);
    const a = p.account('acc');
    const state = a
      ? { balance: a.balance, reserved: a.reserved, overdraftLimit: a.overdraftLimit ?? 0, status: a.status ?? 'open' }
      : { balance: 0, reserved: 0, overdraftLimit: 0, status: 'open' as const };
    records.push({ offset, clock: p.clock, state });
  });
  return { docs: databaseOf(p).match({}), records };
}

const { docs, records } = decide();
const accDocs = docs.filter((d) => d.accountId === 'acc');

function historyOf(ledgerDocs: LedgerDoc[]) {
  // The documents in the order the writer inserts them: a message's lapses, then its decision.
  const collection = new MemoryCollection<LedgerDoc>(ledgerDocs);
  return { collection, history: new AccountHistory(new LedgerReads(collection as never)) };
}

/** The expected answer at `point`: the partition's state after the last offset within it, and that offset. */
function expected(point: HistoryPoint): { state: Omit<PastAccount, 'last'>; lastOffset: number | undefined } {
  const within = (r: Record) => ('decidedBy' in point ? r.clock <= point.decidedBy : r.offset < point.before);
  const record = records.filter(within).at(-1);
  const offsets = accDocs.filter((d) => ('decidedBy' in point ? (d.decidedAt ?? d.receivedAt) <= point.decidedBy : d.offset < point.before)).map((d) => d.offset);
  if (offsets.length === 0) return { state: { balance: 0, reserved: 0, overdraftLimit: 0, status: 'open' }, lastOffset: undefined };
  return { state: record!.state, lastOffset: Math.max(...offsets) };
}

function stateOf(past: PastAccount): Omit<PastAccount, 'last'> {
  const { last: _last, ...state } = past;
  return state;
}

t.test('the log decided what the test relies on', async (t) => {
  const lapses = accDocs.filter((d) => d.offset === 14);
  t.equal(lapses.length, 11, 'eleven holds lapsed at the tick');
  t.ok(lapses.every((d) => d.type === 'expire' && d.decidedAt === 5_000), 'each a lapse, with the clock that lapsed it');
  t.strictSame(accDocs.filter((d) => d.offset === 17).map((d) => d.type), ['expire', 'deposit'], 'a lapse and a decision share offset 17');
  t.equal(accDocs.find((d) => d.offset === 18)?.status, 'denied', 'a refused request: a document that changes nothing');
});

for (const [what, ledgerDocs] of [
  ['documents with decidedAt', docs],
  ['documents written before decidedAt was recorded (read by receivedAt)', docs.map(({ decidedAt: _decidedAt, ...doc }) => doc as LedgerDoc)],
] as const) {
  t.test(`as of every time, ${what}`, async (t) => {
    const { collection, history } = historyOf([...ledgerDocs]);
    for (let time = 0; time <= 11_000; time += 250) {
      const past = await history.asOf('acc', time);
      const want = expected({ decidedBy: time });
      t.strictSame(past && stateOf(past), want.state, `at ${time}: balance, reserved and settings`);
      t.equal(past?.last?.offset, want.lastOffset, `at ${time}: read from the last entry by then`);
    }
    t.ok(collection.queries.every((q) => Object.keys(q)[0] === 'accountId'), 'every query is led by the account, as the statement index is');
  });
}

t.test('the last of an offset: its decision, else the lapse with the highest ordinal', async (t) => {
  const { history } = historyOf(docs);
  const afterTick = await history.asOf('acc', 5_000);
  t.equal(afterTick?.last?._id, `${PARTITION}:14:10:r10~expired`, 'the eleventh lapse, not the one whose ordinal sorts last as text');
  t.equal(afterTick?.reserved, 0, 'every hold of the tick released');
  const shared = await history.asOf('acc', 9_000);
  t.equal(shared?.last?._id, `${PARTITION}:17`, 'the deposit, decided after the lapse at its offset');
  t.strictSame([shared?.balance, shared?.reserved], [105, 0], 'both deposits; every hold lapsed, none taken');
  const shuffled = accDocs.filter((d) => d.offset === 14).reverse();
  t.equal(lastOfOffset(shuffled)?._id, `${PARTITION}:14:10:r10~expired`, 'in any order');
  t.equal(lastOfOffset([...accDocs.filter((d) => d.offset === 17)].reverse())?._id, `${PARTITION}:17`);
});

t.test('before its first document an account had no history; an account the ledger never saw is null', async (t) => {
  const { history } = historyOf(docs);
  t.strictSame(await history.asOf('acc', 999), { balance: 0, reserved: 0, overdraftLimit: 0, status: 'open' });
  t.strictSame(await history.asOf('other', 3_999), { balance: 0, reserved: 0, overdraftLimit: 0, status: 'open' }, 'an account seen later');
  t.equal(await history.asOf('nobody', 11_000), null);
});

t.test('at every cut: the state after the last offset below it, whatever comes after', async (t) => {
  const { collection, history } = historyOf(docs);
  const answers: PastAccount[] = [];
  for (let before = 0; before <= messages.length + 1; before++) {
    const past = await history.at('acc', { partition: PARTITION, before });
    const want = expected({ partition: PARTITION, before });
    t.strictSame(stateOf(past), want.state, `below ${before}`);
    t.equal(past.last?.offset, want.lastOffset, `below ${before}: read from the last entry below it`);
    answers.push(past);
  }
  // Later writes land at higher offsets: the answers below every earlier cut stay as they were.
  collection.docs.push({ ...accDocs.at(-1)!, _id: `${PARTITION}:99`, id: 'later', offset: 99, balanceAfter: 1, reservedAfter: 0 });
  for (let before = 0; before <= messages.length + 1; before++) {
    t.strictSame(await history.at('acc', { partition: PARTITION, before }), answers[before], `below ${before}, after a later write`);
  }
  t.strictSame(await history.at('acc', { partition: PARTITION + 1, before: 99 }), { balance: 0, reserved: 0, overdraftLimit: 0, status: 'open' }, 'another partition holds none of it');
});

t.test('the settings are read back through as many changes as it takes', async (t) => {
  const doc = (offset: number, extra: Partial<LedgerDoc>): LedgerDoc => ({
    _id: `0:${offset}`,
    id: `s${offset}`,
    accountId: 'busy',
    type: 'account_settings',
    amount: 0,
    status: 'applied',
    balanceAfter: 7,
    reservedAfter: 0,
    partition: 0,
    offset,
    receivedAt: offset,
    decidedAt: offset,
    ...extra,
  });
  const ledgerDocs = [
    doc(0, { accountStatus: 'frozen' }),
    ...Array.from({ length: 250 }, (_, n) => doc(n + 1, { overdraftLimit: n + 1 })),
    doc(251, { accountStatus: 'closed', status: 'denied', reason: 'account_not_empty' }),
    doc(300, { type: 'deposit', amount: 3, balanceAfter: 10 }),
  ];
  const { collection, history } = historyOf(ledgerDocs);
  const past = await history.at('busy', { partition: 0, before: 301 });
  t.strictSame(stateOf(past), { balance: 10, reserved: 0, overdraftLimit: 250, status: 'frozen' }, 'the newest limit, the status 250 changes further back; a denied change counts for nothing');
  t.equal(collection.queries.length, 1 + 3, 'the last document, then three pages of settings changes');
  const early = await history.asOf('busy', 0);
  t.strictSame(early && stateOf(early), { balance: 7, reserved: 0, overdraftLimit: 0, status: 'frozen' });
});

t.test('a ledger that cannot be read is 503 ledger-unavailable', async (t) => {
  const { collection, history } = historyOf(docs);
  collection.failing = new Error('connection refused');
  await t.rejects(history.asOf('acc', 5_000), { code: 'TELLER_ERR_LEDGER_UNAVAILABLE' });
  await t.rejects(history.at('acc', { partition: PARTITION, before: 5 }), { code: 'TELLER_ERR_LEDGER_UNAVAILABLE' });
});

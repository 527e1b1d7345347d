// Cuts (api/cuts.ts, api/committed-offsets.ts, common/cuts.ts): the committed
// offsets read from Kafka's answer, kept as a document of their own format,
// read back, and an account's state at the cut, which later writes at higher
// offsets leave as it was.
import t from 'tap';
import { AccountHistory } from '../../api/account-history.js';
import { CommittedOffsets, type OffsetsAdmin } from '../../api/committed-offsets.js';
import { Cuts } from '../../api/cuts.js';
import { LedgerReads } from '../../api/ledger-reads.js';
import { CUT_ID_PATTERN, cutOfDocument, newCutId, type CutDoc } from '../../common/cuts.js';
import { partitionOf } from '../../common/message.js';
import type { LedgerDoc } from '../../common/types.js';
import { MemoryCollection } from '../helpers/memory-collection.js';

const source = { topic: 'teller.transactions', groupId: 'teller-ledger' };
const TAKEN_AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

/** An admin client answering fetchOffsets with `offsets` (Kafka's strings, -1 for never committed). */
function adminOf(offsets: Record<number, string>, behaviour: { connectFails?: number; hangs?: boolean } = {}) {
  const calls = { connect: 0, fetch: 0, disconnect: 0, requests: [] as unknown[] };
  let failures = behaviour.connectFails ?? 0;
  const admin: OffsetsAdmin = {
    connect: async () => {
      calls.connect++;
      if (failures-- > 0) throw new Error('broker not reachable');
    },
    disconnect: async () => {
      calls.disconnect++;
    },
    fetchOffsets: (async (request: { groupId: string; topics: string[] }) => {
      calls.fetch++;
      calls.requests.push(request);
      if (behaviour.hangs) return new Promise(() => undefined);
      return [{ topic: source.topic, partitions: Object.entries(offsets).map(([partition, offset]) => ({ partition: Number(partition), offset, metadata: null })) }];
    }) as OffsetsAdmin['fetchOffsets'],
  };
  return { admin, calls };
}

t.test('cut ids: the time to the millisecond and randomness, in one pattern', async (t) => {
  const id = newCutId(TAKEN_AT, () => '0123456789ab');
  t.equal(id, 'cut_20240102T030405678Z_0123456789ab');
  t.match(newCutId(TAKEN_AT), new RegExp(CUT_ID_PATTERN));
  t.not(newCutId(TAKEN_AT), newCutId(TAKEN_AT), 'two cuts in one millisecond differ');
});

t.test('committed offsets: every partition, one never committed read as 0, connected once', async (t) => {
  const { admin, calls } = adminOf({ 0: '17', 1: '-1', 2: '5' });
  const offsets = new CommittedOffsets(admin, source);
  t.strictSame([...(await offsets.fetch())], [[0, 17], [1, 0], [2, 5]]);
  await offsets.fetch();
  t.equal(calls.connect, 1, 'connected on the first cut only');
  t.strictSame(calls.requests[0], { groupId: source.groupId, topics: [source.topic] }, 'the ledger group, on the transaction topic');
  await offsets.close();
  t.equal(calls.disconnect, 1);
});

t.test('committed offsets: a failed connect is 503 and tried again; no answer in time is 503', async (t) => {
  const failing = adminOf({ 0: '1' }, { connectFails: 1 });
  const offsets = new CommittedOffsets(failing.admin, source);
  await t.rejects(offsets.fetch(), { code: 'TELLER_ERR_OFFSETS_UNAVAILABLE' });
  t.strictSame([...(await offsets.fetch())], [[0, 1]], 'the next cut connects again');
  const hanging = new CommittedOffsets(adminOf({}, { hangs: true }).admin, source, 30);
  await t.rejects(hanging.fetch(), { code: 'TELLER_ERR_OFFSETS_UNAVAILABLE' });
});

/** A ledger document of `accountId` at `offset` of its partition, leaving the balance at `balance`. */
function entry(accountId: string, partition: number, offset: number, balance: number): LedgerDoc {
  return { _id: `${partition}:${offset}`, id: `d${offset}`, accountId, type: 'deposit', amount: 1, status: 'applied', balanceAfter: balance, reservedAfter: 0, partition, offset, receivedAt: offset, decidedAt: offset };
}

function cutsOver(ledger: MemoryCollection<LedgerDoc>, offsets: Map<number, number>) {
  const store = new MemoryCollection<CutDoc>();
  const cuts = new Cuts({ store: store as never, offsets: { fetch: async () => new Map(offsets) }, history: new AccountHistory(new LedgerReads(ledger as never)), source, now: () => TAKEN_AT });
  return { store, cuts };
}

t.test('a cut is kept in its own format and read back as it was taken', async (t) => {
  const { store, cuts } = cutsOver(new MemoryCollection(), new Map([[1, 40], [0, 12]]));
  const cut = await cuts.take();
  t.match(cut.id, new RegExp(CUT_ID_PATTERN));
  t.strictSame(store.docs, [{ _id: cut.id, v: 1, createdAt: TAKEN_AT, topic: source.topic, groupId: source.groupId, offsets: [{ partition: 0, offset: 12 }, { partition: 1, offset: 40 }] }]);
  t.strictSame(await cuts.get(cut.id), cut);
  await t.rejects(cuts.get('cut_20240102T030405678Z_000000000000'), { code: 'TELLER_ERR_CUT_NOT_FOUND' });
  t.throws(() => cutOfDocument({ ...store.docs[0]!, v: 2 as never }), { code: 'TELLER_ERR_UNKNOWN_FORMAT' }, 'a format this code does not know is refused');
  store.failing = new Error('connection refused');
  await t.rejects(cuts.take(), { code: 'TELLER_ERR_LEDGER_UNAVAILABLE' });
  await t.rejects(cuts.get(cut.id), { code: 'TELLER_ERR_LEDGER_UNAVAILABLE' });
});

t.test("an account at a cut: its last entry below the cut's offset in its partition, the same after later writes", async (t) => {
  const partitions = 4;
  const accountId = 'alice';
  const home = partitionOf(accountId, partitions);
  const away = (home + 1) % partitions;
  const ledger = new MemoryCollection<LedgerDoc>([entry(accountId, home, 3, 100), entry(accountId, home, 7, 250), entry('bob', away, 9, 5)]);
  const offsets = new Map([...Array(partitions).keys()].map((p) => [p, p === home ? 8 : 2]));
  const { cuts } = cutsOver(ledger, offsets);
  const cut = await cuts.take();
  const first = await cuts.account(cut.id, accountId);
  t.strictSame([first.partition, first.offset, first.account.balance, first.account.last?.offset], [home, 8, 250, 7]);
  // Later writes: above the cut in alice's partition, and a document of hers left behind in another one.
  ledger.docs.push(entry(accountId, home, 8, 1_000), entry(accountId, home, 12, 2_000), entry(accountId, away, 1, 9));
  const again = await cuts.account(cut.id, accountId);
  t.strictSame(again, first, 'the same answer');
  const later = await cuts.account((await cuts.take()).id, accountId);
  t.equal(later.account.balance, 250, 'a cut taken now still sees only what is below its own offsets');
  const nobody = await cuts.account(cut.id, 'nobody');
  t.strictSame([nobody.account.balance, nobody.account.last], [0, undefined], 'an account with nothing below the cut: zeros, not an error');
});

// Remembered decisions: every outcome a partition holds packs and comes back
// equal, the window reads its time from the packed form, and snapshots saved
// before decisions were packed still restore (their ids into the filter, their
// decisions read back from the ledger).
import t from 'tap';
import { PartitionLedger, type PartitionSnapshot } from '../../consumer/partition.js';
import { recall, remember, rememberedAt } from '../../common/remembered.js';
import { decodeStoredOutcome } from '../../common/read-model.js';
import { decodeChunk, rememberedFromSnapshot, UNMARKED_FORMAT } from '../../consumer/snapshot-format.js';
import { ledgerId, splitLedgerId } from '../../consumer/ledger.js';
import { TX_REASONS, TX_TYPES, type Outcome, type TxReason, type TxStatus } from '../../common/types.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';
import { deposit, request, withdraw } from '../helpers/tx.js';

/** Every status and reason, each named once: the compiler checks the lists are whole. */
const STATUS_NAMES: Record<TxStatus, true> = {
  applied: true,
  approved: true,
  denied: true,
  cancelled: true,
  expired: true,
  not_found: true,
  conflict: true,
  posted: true,
  voided: true,
};
const REASON_NAMES = Object.fromEntries(TX_REASONS.map((reason) => [reason, true])) as Record<TxReason, true>;
const STATUSES = Object.keys(STATUS_NAMES) as TxStatus[];
const REASONS: (TxReason | undefined)[] = [undefined, ...(Object.keys(REASON_NAMES) as TxReason[])];

/** Members an outcome may carry, alone and together: a transfer's leg, references and labels, settings, two-phase transfers, reversals. */
const EXTRAS: Partial<Outcome>[] = [
  {},
  { amount: 1 },
  { amount: Number.MAX_SAFE_INTEGER, requestId: 'req:1.a-Z', overdraft: true },
  { amount: 5, expiresInSeconds: 2_592_000 },
  { amount: 7, counterparty: 'acc-b', transferId: 'tr.1', reference: 'inv|42 "é"', metadata: { 'order.id': 'a|b', b: '' } },
  { overdraftLimit: 0, accountStatus: 'closed' },
  { amount: 9, expiresInSeconds: 60, reference: 'r' },
  { amount: 11, counterparty: 'acc-b', pending: true, expiresInSeconds: 60 },
  { requestId: 'p1', counterparty: 'acc-c', postedAmount: 8 },
  { amount: 12, reversed: 12, reference: 'r' },
  { amount: 3, requestId: 'd1~credit~acc-a~1000', remainder: true },
];

t.test('every type, status and reason packs and comes back equal', async (t) => {
  let n = 0;
  for (const type of TX_TYPES) {
    for (const status of STATUSES) {
      for (const reason of REASONS) {
        for (const extra of EXTRAS) {
          const o: Outcome = { id: 'tx', accountId: 'acc', type, status, balance: -25, reserved: 7, decidedAt: 1_700_000_000_123, ...extra };
          if (reason !== undefined) o.reason = reason;
          t.strictSame(recall('acc', 'tx', remember(o)), o, `${type} ${status} ${reason} ${JSON.stringify(extra)}`);
          n++;
        }
      }
    }
  }
  t.equal(n, TX_TYPES.length * STATUSES.length * REASONS.length * EXTRAS.length);
});

t.test('no two types, statuses or reasons share a code: each packs to a code of its own', async (t) => {
  const base: Outcome = { id: 'tx', accountId: 'acc', type: 'deposit', status: 'applied', balance: 0, reserved: 0, decidedAt: 1 };
  const codeAt = (o: Outcome, field: number) => remember(o).split('|')[field]!;
  const typeCodes = TX_TYPES.map((type) => codeAt({ ...base, type }, 1));
  const statusCodes = STATUSES.map((status) => codeAt({ ...base, status }, 2));
  const reasonCodes = REASONS.filter((reason) => reason !== undefined).map((reason) => codeAt({ ...base, reason }, 7));
  for (const [what, codes, count] of [
    ['types', typeCodes, TX_TYPES.length],
    ['statuses', statusCodes, STATUSES.length],
    ['reasons', reasonCodes, REASONS.length - 1],
  ] as const) {
    t.equal(codes.length, count, `every one of the ${what} packed`);
    t.equal(new Set(codes).size, codes.length, `the ${what}' codes are distinct: ${codes.join(' ')}`);
    t.ok(codes.every((code) => code.length === 1), `each of the ${what} packs to one letter`);
  }
});

t.test('the time to live is the last field: strings from before it read without one, and nine-field readers ignore it', async (t) => {
  const o: Outcome = { id: 'r', accountId: 'acc', type: 'withdraw_request', status: 'approved', amount: 500, balance: 1_000, reserved: 500, decidedAt: 1_700_000_000_000, expiresInSeconds: 60 };
  const packed = remember(o);
  t.equal(packed, '1700000000000|r|p|500|1000|500||||60');
  const { expiresInSeconds: _, ...before } = o;
  t.strictSame(recall('acc', 'r', '1700000000000|r|p|500|1000|500|||'), before, 'a nine-field string: no time to live');
  t.equal(packed.split('|').slice(0, 9).join('|'), remember(before), 'the first nine fields are the string as it was');
});

t.test('the window reads when the id was first seen', async (t) => {
  const o: Outcome = { id: 'tx', accountId: 'acc', type: 'deposit', status: 'applied', amount: 5, balance: 5, reserved: 0, decidedAt: 42_000 };
  t.equal(rememberedAt(remember(o)), 42_000);
});

t.test('a remembered decision is one string, smaller than the outcome as JSON', async (t) => {
  const o: Outcome = { id: 'tx', accountId: 'acc', type: 'withdraw_request', status: 'approved', amount: 500, balance: 1_000, reserved: 500, decidedAt: 1_700_000_000_000 };
  const r = remember(o);
  t.type(r, 'string');
  t.ok(r.length < JSON.stringify(o).length / 3, `${r.length} characters against ${JSON.stringify(o).length}`);
});

t.test('an unknown code is refused, not guessed', async (t) => {
  t.throws(() => recall('acc', 'tx', '1|q|a|1|1|0|||'), TypeError);
  t.throws(() => recall('acc', 'tx', '1|d|?|1|1|0|||'), TypeError);
  t.throws(() => recall('acc', 'tx', '1|d|a|1|1|0||?|'), TypeError);
  t.throws(() => rememberedFromSnapshot({ at: 1 }, UNMARKED_FORMAT), TypeError);
  t.throws(() => rememberedFromSnapshot(null, UNMARKED_FORMAT), TypeError);
});

t.test('ledgerId splits back into account and id', async (t) => {
  t.strictSame(splitLedgerId(ledgerId('acc-1.x:y', 'tx.9~timeout')), { accountId: 'acc-1.x:y', id: 'tx.9~timeout' });
});

t.test('a snapshot saved before decisions were packed restores the same state', async (t) => {
  const DAY = 86_400_000;
  const p = new PartitionLedger(0, DAY);
  const msgs = [deposit('d', 'acc', 100), request('r', 'acc', 60), withdraw('w', 'acc', 60, { requestId: 'r' }), request('big', 'acc', 1_000)];
  // The decisions are in the ledger: that is where a restored partition reads them back.
  const ledger = new MemoryLedger();
  msgs.forEach((m, i) => ledger.insert(p.apply(m, i).docs));
  const current = p.snapshot(msgs.length);
  // The earlier shape: {fp, outcome, at} per id, in a chunk of JSON text without a format (format 1).
  const legacyChunk = {
    _id: 0,
    accounts: JSON.stringify(current.accounts),
    seen: JSON.stringify([...p.outcomes()].map((o) => [ledgerId(o.accountId, o.id), { fp: 'ignored', outcome: o, at: o.decidedAt }])),
  };
  const { accounts, ids } = await decodeChunk(legacyChunk, 'a format 1 chunk');
  const legacy: PartitionSnapshot = { partition: 0, offset: msgs.length, clock: current.clock, accounts, ids };
  const restored = PartitionLedger.restore(legacy, DAY);
  t.strictSame(restored.snapshot(msgs.length), current, 'the same state as the live partition, its ids in the same filter');
  t.match(ledger.apply(restored, request('big', 'acc', 1_000), 9).outcome, { status: 'denied', reason: 'insufficient_funds', replayed: true }, 'a repeat gets the first outcome');
  t.equal(ledger.apply(restored, request('big', 'acc', 5), 10).outcome?.status, 'conflict', 'another body under the same id is a conflict');
});

t.test('an outcome read back from Redis: packed, or JSON written before outcomes were packed', async (t) => {
  const o: Outcome = { id: 'tx', accountId: 'acc', type: 'withdraw', status: 'applied', amount: 9, balance: -4, reserved: 0, overdraft: true, decidedAt: 77 };
  t.strictSame(decodeStoredOutcome('acc', 'tx', remember(o)), o, 'packed');
  t.strictSame(decodeStoredOutcome('acc', 'tx', JSON.stringify(o)), o, 'JSON');
});

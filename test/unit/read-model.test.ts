// The read model's contract: keys and hash fields as Redis holds them, every
// codec round trip, stored outcomes read by their version (unmarked ones as
// version 1), and a version this code does not know refused.
import t from 'tap';
import {
  ACCOUNT_FIELDS,
  ACCOUNT_VIEW_FIELDS,
  announcementMessages,
  decodeAccount,
  decodeAnnouncement,
  decodeStoredOutcome,
  encodeAccount,
  encodeStoredOutcome,
  keys,
  READ_MODEL_VERSION,
  type AccountWrite,
} from '../../common/read-model.js';
import { remember } from '../../common/remembered.js';
import { TELLER_ERR_UNKNOWN_FORMAT as UNKNOWN_FORMAT } from '../../common/errors.js';
import type { Outcome } from '../../common/types.js';

const approved: Outcome = { id: 'r1', accountId: 'acc', type: 'withdraw_request', status: 'approved', amount: 500, balance: 1_000, reserved: 500, decidedAt: 1_700_000_000_000 };
const denied: Outcome = { ...approved, id: 'r2', status: 'denied', reason: 'insufficient_funds', reserved: 0 };
const overdrawn: Outcome = { id: 'w1', accountId: 'acc-2', type: 'withdraw', status: 'applied', amount: 9, balance: -4, reserved: 0, requestId: 'r.9', overdraft: true, decidedAt: 77 };

t.test('keys and channels are the names already in Redis', async (t) => {
  t.equal(keys.account('a-1'), 'teller:acct:a-1');
  t.equal(keys.outcome('a-1', 'tx.1'), 'teller:out:a-1/tx.1');
  t.equal(keys.txId('tx.1'), 'teller:txid:tx.1');
  t.equal(keys.ready(3), 'teller:ready:3');
  t.equal(keys.replyChannel('api-2'), 'teller:reply:api-2');
});

t.test('an account written to its hash reads back as the same view', async (t) => {
  t.strictSame(ACCOUNT_FIELDS, { balance: 'b', reserved: 'r', updatedAt: 'u', offset: 'o', overdraftLimit: 'l', status: 's' }, 'the fields already in Redis');
  const write: AccountWrite = { accountId: 'acc', account: { balance: -25, reserved: 7, updatedAt: 1_700_000_000_123 }, offset: 42 };
  // The hash as Redis keeps it: the writer's values, in ACCOUNT_FIELDS order, as strings.
  const fields = [ACCOUNT_FIELDS.balance, ACCOUNT_FIELDS.reserved, ACCOUNT_FIELDS.updatedAt, ACCOUNT_FIELDS.offset];
  const values = encodeAccount(write);
  const hash = new Map(fields.map((field, i) => [field, String(values[i])]));
  t.equal(hash.get(ACCOUNT_FIELDS.offset), '42', 'the offset guards the write');
  const view = decodeAccount('acc', ACCOUNT_VIEW_FIELDS.map((field) => hash.get(field) ?? null));
  t.strictSame(view, { accountId: 'acc', balance: -25, reserved: 7, updatedAt: 1_700_000_000_123 });
  t.equal(decodeAccount('nobody', [null, null, null]), null, 'an account never written');
  t.strictSame(decodeAccount('acc', ['5', null, null]), { accountId: 'acc', balance: 5, reserved: 0, updatedAt: 0 }, 'missing fields read as 0');
});

/** An account's hash after the writer's script wrote `write` over `hash`: a setting at its default ('') is deleted. */
function written(hash: Map<string, string>, write: AccountWrite): Map<string, string> {
  const fields = [ACCOUNT_FIELDS.balance, ACCOUNT_FIELDS.reserved, ACCOUNT_FIELDS.updatedAt, ACCOUNT_FIELDS.offset, ACCOUNT_FIELDS.overdraftLimit, ACCOUNT_FIELDS.status];
  const next = new Map(hash);
  encodeAccount(write).forEach((value, i) => (value === '' ? next.delete(fields[i]!) : next.set(fields[i]!, String(value))));
  return next;
}

t.test('account settings: written when not their defaults, deleted when back at them; a hash without them reads as the defaults', async (t) => {
  const read = (hash: Map<string, string>) => decodeAccount('acc', ACCOUNT_VIEW_FIELDS.map((field) => hash.get(field) ?? null));
  const frozen = written(new Map(), { accountId: 'acc', account: { balance: 10, reserved: 0, updatedAt: 5, overdraftLimit: 500, status: 'frozen' }, offset: 3 });
  t.equal(frozen.get(ACCOUNT_FIELDS.overdraftLimit), '500');
  t.equal(frozen.get(ACCOUNT_FIELDS.status), 'frozen');
  t.strictSame(read(frozen), { accountId: 'acc', balance: 10, reserved: 0, updatedAt: 5, overdraftLimit: 500, status: 'frozen' });
  const reopened = written(frozen, { accountId: 'acc', account: { balance: 10, reserved: 0, updatedAt: 6, overdraftLimit: 0, status: 'open' }, offset: 4 });
  t.notOk(reopened.has(ACCOUNT_FIELDS.overdraftLimit), 'a limit back at 0 leaves the hash');
  t.notOk(reopened.has(ACCOUNT_FIELDS.status), 'open leaves the hash');
  t.strictSame(read(reopened), { accountId: 'acc', balance: 10, reserved: 0, updatedAt: 6 }, 'the defaults read as absent');
  const older = new Map([[ACCOUNT_FIELDS.balance, '7'], [ACCOUNT_FIELDS.reserved, '1'], [ACCOUNT_FIELDS.updatedAt, '2'], [ACCOUNT_FIELDS.offset, '9']]);
  t.strictSame(read(older), { accountId: 'acc', balance: 7, reserved: 1, updatedAt: 2 }, 'a hash written before the settings');
  t.throws(() => decodeAccount('acc', ['1', '0', '0', null, 'suspended']), { code: 'TELLER_ERR_UNKNOWN_FORMAT' }, 'a status this code does not know is refused');
});

t.test('a stored outcome carries the version and reads back equal', async (t) => {
  for (const o of [approved, denied, overdrawn]) {
    const stored = encodeStoredOutcome(o);
    t.equal(stored, `v${READ_MODEL_VERSION}|${remember(o)}`, 'the version, then the packed form');
    t.strictSame(decodeStoredOutcome(o.accountId, o.id, stored), o, `${o.id} round trip`);
  }
});

t.test('version 2 outcomes (before the time to live was packed) still read; version 3 carries it', async (t) => {
  t.equal(READ_MODEL_VERSION, 3);
  t.strictSame(decodeStoredOutcome('acc', 'r1', `v2|${remember(approved)}`), approved, 'version 2');
  const held = { ...approved, expiresInSeconds: 3_600 };
  t.strictSame(decodeStoredOutcome('acc', 'r1', encodeStoredOutcome(held)), held, 'version 3, with its time to live');
  t.match(encodeStoredOutcome(held), /^v3\|.*\|3600$/);
});

t.test('unmarked outcomes are version 1: packed, or JSON from before outcomes were packed', async (t) => {
  t.strictSame(decodeStoredOutcome('acc-2', 'w1', remember(overdrawn)), overdrawn, 'packed');
  t.strictSame(decodeStoredOutcome('acc', 'r2', JSON.stringify(denied)), denied, 'JSON');
  t.strictSame(decodeStoredOutcome('acc', 'r1', `0|r|p|500|1000|500|||`), { ...approved, decidedAt: 0 }, 'decided at 0 is still unmarked');
});

t.test('a stored outcome of a version this code does not know is refused', async (t) => {
  const newer = `v${READ_MODEL_VERSION + 1}|${remember(approved)}`;
  t.throws(() => decodeStoredOutcome('acc', 'r1', newer), { code: UNKNOWN_FORMAT.code, retryable: true, details: { found: String(READ_MODEL_VERSION + 1) } });
  t.throws(() => decodeStoredOutcome('acc', 'r1', 'v|garbage'), { code: UNKNOWN_FORMAT.code }, 'an empty version too');
});

t.test('announcements: one message per waiting replica, on its channel, decoding to its outcomes', async (t) => {
  const messages = announcementMessages([
    { outcome: approved, replyTo: 'api-1', callId: undefined },
    { outcome: denied, replyTo: undefined, callId: undefined },
    { outcome: overdrawn, replyTo: 'api-2', callId: undefined },
    { outcome: denied, replyTo: 'api-1', callId: undefined },
  ]);
  t.strictSame(
    messages.map(([channel]) => channel),
    [keys.replyChannel('api-1'), keys.replyChannel('api-2')],
    'replicas in the order first announced; nobody waits for a call without replyTo',
  );
  t.equal(messages[0]![1], JSON.stringify([approved, denied]), 'without tokens the payload is the JSON array of outcomes, as before');
  t.strictSame(decodeAnnouncement(messages[0]![1]), [{ outcome: approved }, { outcome: denied }]);
  t.strictSame(decodeAnnouncement(messages[1]![1]), [{ outcome: overdrawn }]);
  t.strictSame(announcementMessages([]), [], 'nothing to announce');
});

t.test("an announced outcome carries its call's token, and reads back without it in the outcome", async (t) => {
  const [[, payload]] = announcementMessages([
    { outcome: approved, replyTo: 'api-1', callId: 'a1b2.1' },
    { outcome: denied, replyTo: 'api-1', callId: undefined },
  ]) as [[string, string]];
  t.strictSame(JSON.parse(payload), [{ ...approved, callId: 'a1b2.1' }, denied], 'one member more on the outcome object');
  t.strictSame(decodeAnnouncement(payload), [{ outcome: approved, callId: 'a1b2.1' }, { outcome: denied }]);
});

t.test('an announcement that is not an array of outcomes is refused', async (t) => {
  t.throws(() => decodeAnnouncement(JSON.stringify(approved)), TypeError);
  t.throws(() => decodeAnnouncement('not json'), SyntaxError);
});

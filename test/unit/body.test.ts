// A call's body (common/body.ts): what a repeat of an id is compared by, at
// the owner (`sameBody`) and for a poller after a 202 (`bodyDigest`,
// `digestMatches`), which must agree.
import t from 'tap';
import { BODY_DIGEST_PATTERN, bodyDigest, digestMatches, sameBody, type Body } from '../../common/body.js';
import type { TxMessage } from '../../common/types.js';
import { cancel, deposit, request, withdraw } from '../helpers/tx.js';

t.test('the body is type, amount, requestId and the time to live; transport fields are not', async (t) => {
  const base = request('r', 'acc', 10, { receivedAt: 1, expiresAt: 5, expiresInSeconds: 60, replyTo: 'api-1', callId: 'a.1' });
  const later: TxMessage = { ...base, receivedAt: 2, expiresAt: 6, replyTo: 'api-2', callId: 'b.7', clientTimestamp: '2024-01-01T00:00:00.000Z' };
  t.ok(sameBody(base, later), 'transport fields ignored');
  t.notOk(sameBody(base, { ...base, amount: 11 }));
  t.notOk(sameBody(base, { ...base, type: 'withdraw' }));
  t.notOk(sameBody(base, { ...base, expiresInSeconds: 61 }), 'another time to live');
  t.notOk(sameBody(withdraw('w', 'acc', 10), withdraw('w', 'acc', 10, { requestId: 'r' })));
  t.notOk(sameBody(cancel('c', 'acc', 'r1'), cancel('c', 'acc', 'r2')));
  t.notOk(sameBody(deposit('d', 'acc', 1), deposit('d', 'acc', 11)));
  t.ok(sameBody(cancel('c', 'acc', 'r1'), cancel('c', 'acc', 'r1')));
});

t.test('a time to live is compared only when both carry it', async (t) => {
  const remembered = request('r', 'acc', 10);
  t.ok(sameBody(remembered, { ...remembered, expiresInSeconds: 60 }), 'remembered before the time to live was part of the body');
  t.ok(sameBody({ ...remembered, expiresInSeconds: 60 }, remembered), 'sent by an api that did not carry it');
  t.notOk(sameBody(remembered, { ...remembered, amount: 11, expiresInSeconds: 60 }), 'the rest still compares');
});

t.test('a digest names its own body and no other, as sameBody judges', async (t) => {
  const bodies: Body[] = [
    { type: 'deposit', amount: 100 },
    { type: 'deposit', amount: 999 },
    { type: 'withdraw', amount: 100 },
    { type: 'withdraw', amount: 100, requestId: 'r1' },
    { type: 'withdraw_request', amount: 100, expiresInSeconds: 60 },
    { type: 'withdraw_request', amount: 100, expiresInSeconds: 61 },
    { type: 'cancel', requestId: 'r1' },
    { type: 'cancel', requestId: 'r2' },
  ];
  for (const call of bodies) {
    const digest = bodyDigest(call);
    t.match(digest, new RegExp(BODY_DIGEST_PATTERN));
    for (const recorded of bodies) {
      t.equal(digestMatches(digest, recorded), sameBody(recorded, call), `${JSON.stringify(call)} against ${JSON.stringify(recorded)}`);
    }
  }
});

t.test('against a decision recorded without its time to live, the digest compares the rest', async (t) => {
  const call: Body = { type: 'withdraw_request', amount: 100, expiresInSeconds: 60 };
  t.ok(digestMatches(bodyDigest(call), { type: 'withdraw_request', amount: 100 }), 'the same request, any time to live');
  t.notOk(digestMatches(bodyDigest(call), { type: 'withdraw_request', amount: 101 }), 'another amount');
  t.notOk(digestMatches('0'.repeat(20), { type: 'withdraw_request', amount: 100 }), 'a digest of nothing sent');
});

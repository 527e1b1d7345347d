// The outcome waiter: each call waits under a token of its own, and an
// announcement wakes exactly the call whose token it carries. Announcements
// are built with the owners' own encoder (common/read-model.ts) and delivered
// as Redis would, on the replica's channel.
import t from 'tap';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { OutcomeWaiter } from '../../api/waiter.js';
import { CALL_ID_PATTERN } from '../../common/message.js';
import { announcementMessages, type Announcement } from '../../common/read-model.js';
import type { Outcome } from '../../common/types.js';

const REPLICA = 'api-1';

/** Redis as the waiter uses its subscriber: ready, subscribed, and emitting what is published. */
function fakeSubscriber(): EventEmitter & { status: string; subscribe: () => Promise<void> } {
  return Object.assign(new EventEmitter(), { status: 'ready', subscribe: async () => undefined });
}

async function listeningWaiter() {
  const subscriber = fakeSubscriber();
  const waiter = new OutcomeWaiter(subscriber as unknown as Redis, REPLICA, pino({ level: 'silent' }));
  subscriber.emit('ready');
  await new Promise((resolve) => setImmediate(resolve));
  /** Publishes what an owner would, for this replica's calls. */
  const announce = (announced: Omit<Announcement, 'replyTo'>[]) => {
    for (const [channel, payload] of announcementMessages(announced.map((a) => ({ ...a, replyTo: REPLICA })))) subscriber.emit('message', channel, payload);
  };
  return { waiter, announce };
}

function deposit(amount: number, extra: Partial<Outcome> = {}): Outcome {
  return { id: 'same-id', accountId: 'acct', type: 'deposit', amount, status: 'applied', balance: amount, reserved: 0, decidedAt: 1, ...extra };
}

t.test('two calls with one id: each gets the outcome announced with its own token', async (t) => {
  const { waiter, announce } = await listeningWaiter();
  t.ok(waiter.listening);
  const first = waiter.wait('acct', 'same-id', 1_000);
  const second = waiter.wait('acct', 'same-id', 1_000);
  t.not(first.callId, second.callId, 'one token a call');
  t.equal(waiter.pending, 2, 'two calls wait');
  const applied = deposit(4);
  const conflict = deposit(7, { status: 'conflict', reason: 'id_reused', balance: 4 });
  // The second call's message was decided first: its announcement must not wake the first call.
  announce([{ outcome: conflict, callId: second.callId }]);
  t.strictSame(await second.promise, conflict, 'the second call reads its own conflict');
  t.equal(waiter.pending, 1, 'the first call still waits');
  announce([{ outcome: applied, callId: first.callId }]);
  t.strictSame(await first.promise, applied, 'the first call reads its own amount');
  t.equal(waiter.pending, 0);
});

t.test('one announcement with both outcomes, the repeat first: each call still gets its own', async (t) => {
  const { waiter, announce } = await listeningWaiter();
  const deposit4 = waiter.wait('acct', 'same-id', 1_000);
  const request4 = waiter.wait('acct', 'same-id', 1_000);
  const applied = deposit(4);
  const replayed = { ...applied, replayed: true };
  const typeConflict = deposit(4, { type: 'withdraw_request', status: 'conflict', reason: 'id_reused' });
  const repeat = waiter.wait('acct', 'same-id', 1_000);
  announce([
    { outcome: replayed, callId: repeat.callId },
    { outcome: typeConflict, callId: request4.callId },
    { outcome: applied, callId: deposit4.callId },
  ]);
  t.strictSame(await deposit4.promise, applied);
  t.strictSame(await request4.promise, typeConflict, 'a withdrawal request never reads a deposit');
  t.strictSame(await repeat.promise, replayed, 'the repeat reads replayed');
});

t.test('a token this process did not issue wakes nobody', async (t) => {
  const { waiter, announce } = await listeningWaiter();
  const call = waiter.wait('acct', 'same-id', 50);
  const other = await listeningWaiter();
  const stranger = other.waiter.wait('acct', 'same-id', 10);
  t.not(stranger.callId, call.callId, 'another process (a restarted replica) issues other tokens');
  announce([{ outcome: deposit(1), callId: stranger.callId }]);
  t.equal(await call.promise, undefined, 'the call timed out rather than read another call\'s outcome');
  await stranger.promise;
});

t.test('an announcement without a token (an owner that predates tokens) wakes every call on the id, as before', async (t) => {
  const { waiter, announce } = await listeningWaiter();
  const one = waiter.wait('acct', 'same-id', 1_000);
  const two = waiter.wait('acct', 'same-id', 1_000);
  const elsewhere = waiter.wait('acct', 'other-id', 30);
  announce([{ outcome: deposit(3), callId: undefined }]);
  t.strictSame(await one.promise, deposit(3));
  t.strictSame(await two.promise, deposit(3));
  t.equal(await elsewhere.promise, undefined, 'another id is not woken');
});

t.test('a cancelled wait is resolved at once and forgotten', async (t) => {
  const { waiter, announce } = await listeningWaiter();
  const call = waiter.wait('acct', 'same-id', 1_000);
  call.cancel();
  t.equal(await call.promise, undefined);
  t.equal(waiter.pending, 0);
  announce([{ outcome: deposit(1), callId: call.callId }]);
});

t.test('tokens are what the message schema takes', async (t) => {
  const { waiter } = await listeningWaiter();
  const calls = Array.from({ length: 40 }, () => waiter.wait('acct', 'x', 1));
  for (const call of calls) t.match(call.callId, new RegExp(CALL_ID_PATTERN));
  t.equal(new Set(calls.map((c) => c.callId)).size, calls.length, 'all different');
  await Promise.all(calls.map((c) => c.promise));
});

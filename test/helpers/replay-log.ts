// Random partition logs for the replay property tests
// (test/unit/replay.property.test.ts): a few accounts, deposits, requests,
// withdrawals with and without requestId, cancels, ticks, retries with the
// same and with another body, a jittery clock, holds with and without expiry,
// requests with and without a hold limit. Each record carries the broker's
// append time beside its message; api replicas' `receivedAt` sometimes jumps
// far ahead; and clock markers at random offsets move the partition to the
// broker's clock part way through a log. Transfers between the accounts
// (their credits and returns are fed back by replay-run.ts `withLegs`),
// settings changes (overdraft limits, frozen, closed, open again),
// references and metadata on some writes, reversals (of deposits and
// withdrawals here, of transfer credits fed back by `withLegs`), and
// two-phase transfers with their posts (whole, part, too much) and voids.
import fc from 'fast-check';
import { isTransaction } from '../../common/message.js';
import type { LogMessage, TxMessage } from '../../common/types.js';
import type { PartitionLedger, Step } from '../../consumer/partition.js';

export const ACCOUNTS = ['acc-a', 'acc-b', '__proto__'];
/** How far ahead a replica whose clock jumped stamps `receivedAt`: past every id window the tests use. */
export const FAR_AHEAD_MS = 1e9;

/** A record of the log: its message, and its timestamp, the broker's append time. */
export interface LogRecord {
  msg: LogMessage;
  timestamp: number;
}

/** Applies a record at `offset`, as the consumer does. */
export function applyRecord(p: PartitionLedger, record: LogRecord, offset: number): Step {
  return p.apply(record.msg, offset, record.timestamp);
}

type Kind = 'deposit' | 'request' | 'withdraw' | 'capture' | 'cancel' | 'tick' | 'retry' | 'reuse' | 'transfer' | 'settings' | 'reversal' | 'pending' | 'post' | 'void';

interface Op {
  kind: Kind;
  acct: number;
  amount: number;
  /** Hold lifetime relative to receivedAt (sometimes already past); undefined: no expiry. */
  ttl: number | undefined;
  /** Picks an earlier message or request. */
  ref: number;
  /** For capture and cancel: an earlier request, or an id never requested. */
  known: boolean;
  /** Step of the clock: mostly forward, sometimes back (jitter, or a new partition leader), sometimes a jump. */
  dt: number;
  /** How far ahead of the broker the replica taking the call stamps `receivedAt`: rarely very far. */
  skew: number;
  /** For requests: the hold limit the api sent, if any. */
  holdLimit: number | undefined;
  variant: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.oneof(
    { weight: 3, arbitrary: fc.constant<Kind>('deposit') },
    { weight: 4, arbitrary: fc.constant<Kind>('request') },
    { weight: 2, arbitrary: fc.constant<Kind>('withdraw') },
    { weight: 2, arbitrary: fc.constant<Kind>('capture') },
    { weight: 3, arbitrary: fc.constant<Kind>('cancel') },
    { weight: 1, arbitrary: fc.constant<Kind>('tick') },
    { weight: 4, arbitrary: fc.constant<Kind>('retry') },
    { weight: 2, arbitrary: fc.constant<Kind>('reuse') },
    { weight: 3, arbitrary: fc.constant<Kind>('transfer') },
    { weight: 2, arbitrary: fc.constant<Kind>('settings') },
    { weight: 2, arbitrary: fc.constant<Kind>('reversal') },
    { weight: 3, arbitrary: fc.constant<Kind>('pending') },
    { weight: 2, arbitrary: fc.constant<Kind>('post') },
    { weight: 1, arbitrary: fc.constant<Kind>('void') },
  ),
  acct: fc.nat(ACCOUNTS.length - 1),
  // Round amounts make "available exactly equal to the request" common.
  amount: fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(10, 20, 25, 50, 100) },
    { weight: 20, arbitrary: fc.integer({ min: 1, max: 120 }) },
    // Amounts near 2^53 - 1, so balances reach the edge of what is counted exactly.
    { weight: 1, arbitrary: fc.integer({ min: Number.MAX_SAFE_INTEGER - 200, max: Number.MAX_SAFE_INTEGER }) },
  ),
  ttl: fc.option(fc.integer({ min: -50, max: 800 }), { nil: undefined, freq: 2 }),
  ref: fc.nat(),
  known: fc.boolean(),
  dt: fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 150 }) },
    { weight: 2, arbitrary: fc.integer({ min: -120, max: -1 }) },
    { weight: 1, arbitrary: fc.integer({ min: 500, max: 2_000 }) },
  ),
  skew: fc.oneof(
    { weight: 200, arbitrary: fc.integer({ min: 0, max: 50 }) },
    { weight: 1, arbitrary: fc.constant(FAR_AHEAD_MS) },
  ),
  holdLimit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined, freq: 2 }),
  variant: fc.nat(3),
});

/**
 * The log of `ops`, with a clock marker before the op at each of `markers`
 * (mod the number of ops + 1). `brokerOffset`: how far the broker's clock is
 * from the true time the replicas mostly agree with.
 */
function buildLog(ops: Op[], markers: number[], brokerOffset: number): LogRecord[] {
  let now = 1_000_000;
  const log: LogRecord[] = [];
  const txs: TxMessage[] = [];
  const requests: TxMessage[] = [];
  const pendings: TxMessage[] = [];
  /** Posts and voids: retried often, so their replays are seen. */
  const settles: TxMessage[] = [];
  const markAt = new Set(markers.map((m) => m % (ops.length + 1)));
  const add = (m: LogMessage) => {
    log.push({ msg: m, timestamp: now + brokerOffset });
    if (isTransaction(m)) txs.push(m);
    if (m.type === 'withdraw_request') requests.push(m);
    if (m.type === 'transfer' && m.pending) pendings.push(m);
    if (m.type === 'transfer_post' || m.type === 'transfer_void') settles.push(m);
  };
  const addMarker = () => log.push({ msg: { v: 1, type: 'clock', source: 'log-append-time', receivedAt: now }, timestamp: now + brokerOffset });
  ops.forEach((op, i) => {
    now += op.dt;
    if (markAt.has(i)) addMarker();
    const accountId = ACCOUNTS[op.acct]!;
    const receivedAt = now + op.skew;
    const base: Pick<TxMessage, 'v' | 'id' | 'accountId' | 'receivedAt' | 'clientTimestamp' | 'reference' | 'metadata'> = { v: 1, id: `t${i}`, accountId, receivedAt };
    // The client's claimed time, sometimes far from the log clock: it must change nothing.
    if (op.variant === 2) base.clientTimestamp = new Date(now - op.dt * 1_000_000).toISOString();
    // A client's labels on some writes: part of the body, copied to the documents and a transfer's legs.
    if (op.kind !== 'tick' && op.kind !== 'retry' && op.kind !== 'reuse') {
      if (op.ref % 5 === 1) base.reference = `ref ${i % 4}`;
      if (op.ref % 7 === 2) base.metadata = { n: String(i % 3), 'k.v': 'x' };
    }
    const requestId = () => (op.known && requests.length > 0 ? requests[op.ref % requests.length]!.id : `none${i}`);
    // A post or void mostly names a pending transfer on its own account; now and then a request, or nothing held.
    // One of the last few, which is likelier to be held still.
    const pendingNamed = () => ((op.known || op.ref % 4 !== 0) && pendings.length > 0 ? pendings[pendings.length - 1 - (op.ref % Math.min(3, pendings.length))]! : op.variant === 0 ? requests[op.ref % Math.max(1, requests.length)] : undefined);
    switch (op.kind) {
      case 'deposit':
        // Larger than the rest, so that requests are approved about as often as denied.
        return add({ ...base, type: 'deposit', amount: op.amount * 3 });
      case 'withdraw':
        return add({ ...base, type: 'withdraw', amount: op.amount });
      case 'request': {
        const m: TxMessage = { ...base, type: 'withdraw_request', amount: op.amount };
        if (op.ttl !== undefined) m.expiresAt = receivedAt + op.ttl;
        // The time to live asked for (part of the body); none, as an api from before it sent.
        // In seconds, so that by the broker's clock holds lapse within a log too.
        if (op.variant > 0) m.expiresInSeconds = op.variant;
        if (op.holdLimit !== undefined) m.holdLimit = op.holdLimit;
        return add(m);
      }
      case 'capture': {
        // Mostly on the request's own account; a request of another account is not held here.
        const rid = requestId();
        const owner = requests.find((r) => r.id === rid)?.accountId;
        return add({ ...base, accountId: op.variant > 0 && owner ? owner : accountId, type: 'withdraw', amount: op.amount, requestId: rid });
      }
      case 'cancel': {
        const rid = requestId();
        const owner = requests.find((r) => r.id === rid)?.accountId;
        return add({ ...base, accountId: op.variant > 0 && owner ? owner : accountId, type: 'cancel', requestId: rid });
      }
      case 'tick':
        return add({ v: 1, type: 'tick', receivedAt });
      case 'transfer': {
        // Mostly to another account; now and then to itself. A waiting caller's tokens sometimes.
        const to = op.variant === 3 ? accountId : ACCOUNTS[(op.acct + 1 + (op.ref % (ACCOUNTS.length - 1))) % ACCOUNTS.length]!;
        const m: TxMessage = { ...base, type: 'transfer', counterparty: to, amount: op.amount };
        if (op.variant === 1) Object.assign(m, { replyTo: 'api-1', callId: `call.${i}`, creditCallId: `credit.${i}` });
        return add(m);
      }
      case 'reversal': {
        // Mostly of an earlier deposit or withdrawal, on its own account; now and then of anything,
        // of an id never used, or on another account. All that is left, or a part (sometimes too much).
        const reversible = txs.filter((m) => m.type === 'deposit' || m.type === 'withdraw');
        const pool = op.variant < 3 && reversible.length > 0 ? reversible : txs;
        const first = pool[op.ref % Math.max(1, pool.length)];
        const m: TxMessage = { ...base, type: 'reversal', accountId: op.variant > 0 && first ? first.accountId : accountId, requestId: op.known || op.variant > 1 ? (first?.id ?? `none${i}`) : `none${i}` };
        if (op.holdLimit !== undefined) m.amount = op.amount;
        return add(m);
      }
      case 'pending': {
        const to = ACCOUNTS[(op.acct + 1 + (op.ref % (ACCOUNTS.length - 1))) % ACCOUNTS.length]!;
        const m: TxMessage = { ...base, type: 'transfer', counterparty: to, amount: op.amount, pending: true };
        if (op.ttl !== undefined) m.expiresAt = receivedAt + op.ttl;
        if (op.variant > 0) m.expiresInSeconds = op.variant;
        return add(m);
      }
      case 'post':
      case 'void': {
        const named = pendingNamed();
        const accountOf = (op.variant > 0 || op.ref % 2 === 0) && named ? named.accountId : accountId;
        const m: TxMessage = { ...base, accountId: accountOf, type: op.kind === 'post' ? 'transfer_post' : 'transfer_void', requestId: named?.id ?? `none${i}` };
        // The whole hold, part of it, or more than it; the tokens of a waiting caller sometimes.
        if (op.kind === 'post' && op.ref % 3 !== 0) m.amount = op.ref % 3 === 1 ? Math.max(1, Math.floor((named?.amount ?? op.amount) / 2)) : (named?.amount ?? op.amount) + 1;
        if (op.kind === 'post' && op.variant === 1) Object.assign(m, { replyTo: 'api-1', callId: `call.${i}`, creditCallId: `credit.${i}` });
        add(m);
        // Now and then retried at once: the post itself, or the transfer it named, which may now read posted or voided.
        if (op.variant === 3) add({ ...m, receivedAt: receivedAt + 1, callId: `again.${i}` });
        if (op.variant === 2 && named?.type === 'transfer') add({ ...named, receivedAt: receivedAt + 1, callId: `again.${i}` });
        return;
      }
      case 'settings': {
        // Closed, frozen, open again, or a limit alone; a limit of 0 (the default), 50 or 200 with some.
        const m: TxMessage = { ...base, type: 'account_settings' };
        const status = (['closed', 'frozen', 'open', undefined] as const)[op.variant];
        if (status !== undefined) m.accountStatus = status;
        if (op.holdLimit !== undefined || status === undefined) m.overdraftLimit = [0, 50, 200][(op.holdLimit ?? 2) - 1];
        return add(m);
      }
      case 'retry': {
        // The same body again, later, with new transport fields; often a request, whose answer
        // (or a pending transfer's) may have become cancelled, expired, posted or voided meanwhile.
        // Of a two-phase transfer's messages, the transfer the last post or void named, or one of the last few.
        const settled = pendings.find((m) => m.id === settles.at(-1)?.requestId && m.accountId === settles.at(-1)?.accountId);
        const twoPhase = op.ref % 2 === 0 && settled ? [settled] : [...pendings.slice(-2), ...settles.slice(-2)];
        // Else, now and then, a single-phase transfer or a reversal (rarer among so many kinds), else anything.
        const moved = op.ref % 3 === 0 ? txs.filter((m) => (m.type === 'transfer' && !m.pending) || m.type === 'reversal') : [];
        const pool = op.variant < 2 && requests.length > 0 ? requests : op.variant === 2 && twoPhase.length > 0 ? twoPhase : moved.length > 0 ? moved : txs;
        const first = pool[op.ref % Math.max(1, pool.length)];
        if (!first) return add({ v: 1, type: 'tick', receivedAt });
        const m: TxMessage = { ...first, receivedAt, replyTo: `api-${op.variant}`, callId: `call.${i}`, clientTimestamp: new Date(now).toISOString() };
        if (first.type === 'transfer' || first.type === 'transfer_post') m.creditCallId = `credit.${i}`;
        if (first.type === 'withdraw_request' && op.ttl !== undefined) m.expiresAt = receivedAt + op.ttl;
        return add(m);
      }
      case 'reuse': {
        // The same id with another body.
        const first = txs[op.ref % Math.max(1, txs.length)];
        if (!first) return add({ v: 1, type: 'tick', receivedAt });
        const m: TxMessage = { ...first, receivedAt };
        if (first.type === 'reversal') {
          // Naming an amount where the first named none (even the one it came to), or none where it named one.
          if (first.amount === undefined) m.amount = 1 + (op.ref % 100);
          else delete m.amount;
        } else if (first.type === 'transfer' || first.type === 'account_settings' || (op.variant === 2 && first.reference !== undefined)) {
          // Another amount, counterparty, limit or reference: each is part of the body.
          if (op.variant === 0 && first.type === 'transfer') m.amount = first.amount! + 1;
          else if (op.variant === 0 && first.type === 'account_settings') m.overdraftLimit = (first.overdraftLimit ?? 0) + 1;
          else if (op.variant === 1 && first.type === 'transfer') m.counterparty = first.counterparty === 'acc-a' ? 'acc-b' : 'acc-a';
          else m.reference = `${first.reference ?? ''}x`;
        } else if (first.type === 'cancel' || first.type === 'transfer_post' || first.type === 'transfer_void') m.requestId = `${first.requestId}x`;
        // Another time to live: a conflict when both carry one, compared as before when either does not.
        else if (first.type === 'withdraw_request' && op.variant === 3) m.expiresInSeconds = first.expiresInSeconds === undefined ? 60 : first.expiresInSeconds + 1;
        else if (op.variant === 0) m.amount = first.amount! + 1;
        else if (op.variant === 1) m.type = first.type === 'deposit' ? 'withdraw' : 'deposit';
        else if (first.requestId === undefined) m.requestId = `r${op.ref}`;
        else delete m.requestId;
        if (m.type !== 'withdraw_request' && !m.pending) {
          delete m.expiresAt;
          delete m.expiresInSeconds;
          delete m.holdLimit;
        }
        return add(m);
      }
    }
  });
  if (markAt.has(ops.length)) addMarker();
  return log;
}

/** Logs of up to `max` ops, with up to two clock markers (often none) and a broker clock a few seconds off. */
export const logArb = (max: number): fc.Arbitrary<LogRecord[]> =>
  fc
    .tuple(fc.array(opArb, { minLength: 1, maxLength: max, size: 'max' }), fc.array(fc.nat(), { maxLength: 2 }), fc.integer({ min: -3_000, max: 3_000 }))
    .map(([ops, markers, brokerOffset]) => buildLog(ops, markers, brokerOffset));

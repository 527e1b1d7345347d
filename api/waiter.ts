// The outcome waiter: each api replica subscribes to its own Redis channel,
// where partition owners announce the outcomes of the calls it took. A call
// registers before its message is produced, so no announcement can be missed.
//
// Each call waits under a token of its own, which its message carries as
// `callId` and the announcement carries back: calls with one id but different
// bodies, sent at once, each get the outcome of their own message (the first
// decision, a replay of it, or a conflict), never another call's.
//
// The waits are bounded by admission control (api/admission.ts): a wait is
// registered and settled inside its call's handler, a handler runs only while
// its call holds one of MAX_CALLS_IN_FLIGHT slots, and a call waits at most
// twice (a transfer: its debit and its credit). So `calls` holds at most
// 2 x MAX_CALLS_IN_FLIGHT entries, each gone at its outcome or its timeout.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Outcome } from '../common/types.js';
import { decodeAnnouncement, keys, type AnnouncedOutcome } from '../common/read-model.js';

type Resolver = (outcome: Outcome | undefined) => void;

/** A call's wait: its token for the message, its outcome (undefined after the timeout), and a way to give up. */
export interface Waiting {
  callId: string;
  promise: Promise<Outcome | undefined>;
  cancel: () => void;
}

interface Waiter {
  transaction: string;
  resolve: Resolver;
}

export class OutcomeWaiter {
  /** Waiting calls by token. */
  private readonly calls = new Map<string, Waiter>();
  /** Tokens waiting on each `accountId/id`: how an announcement without a token is matched. */
  private readonly byTransaction = new Map<string, Set<string>>();
  /**
   * Random for each process, so that a replica restarted under the same name
   * never takes an announcement meant for a call of its previous run.
   */
  private readonly prefix = randomBytes(6).toString('hex');
  private counter = 0;
  readonly channel: string;
  private subscribed = false;

  constructor(
    private readonly subscriber: Redis,
    replicaId: string,
    private readonly log: Logger,
  ) {
    this.channel = keys.replyChannel(replicaId);
    subscriber.on('message', (channel: string, payload: string) => {
      if (channel === this.channel) this.deliver(payload);
    });
    // ioredis re-subscribes by itself after a reconnect; until then nothing can be announced to us.
    subscriber.on('ready', () => void this.subscribe());
    subscriber.on('close', () => {
      this.subscribed = false;
    });
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel);
      this.subscribed = true;
    } catch (err) {
      this.log.warn({ err }, 'could not subscribe to the reply channel');
    }
  }

  /** Whether an announcement could reach us now; when not, callers do not wait for one. */
  get listening(): boolean {
    return this.subscribed && this.subscriber.status === 'ready';
  }

  /**
   * Starts waiting for the outcome of one call on `accountId/id`; resolves
   * with undefined after `timeoutMs`. Call before producing the message, and
   * put the returned `callId` in it.
   */
  wait(accountId: string, id: string, timeoutMs: number): Waiting {
    const callId = `${this.prefix}.${(++this.counter).toString(36)}`;
    const transaction = `${accountId}/${id}`;
    let resolve!: Resolver;
    const promise = new Promise<Outcome | undefined>((settle) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      resolve = (outcome) => {
        clearTimeout(timer);
        this.remove(callId, transaction);
        settle(outcome);
      };
    });
    this.calls.set(callId, { transaction, resolve });
    const tokens = this.byTransaction.get(transaction);
    if (tokens) tokens.add(callId);
    else this.byTransaction.set(transaction, new Set([callId]));
    return { callId, promise, cancel: () => resolve(undefined) };
  }

  /** Calls waiting for their outcome now. */
  get pending(): number {
    return this.calls.size;
  }

  private remove(callId: string, transaction: string): void {
    this.calls.delete(callId);
    const tokens = this.byTransaction.get(transaction);
    if (!tokens) return;
    tokens.delete(callId);
    if (tokens.size === 0) this.byTransaction.delete(transaction);
  }

  private deliver(payload: string): void {
    let announced: AnnouncedOutcome[];
    try {
      announced = decodeAnnouncement(payload);
    } catch (err) {
      this.log.error({ err }, 'unreadable outcome announcement');
      return;
    }
    for (const { outcome, callId } of announced) {
      if (callId !== undefined) {
        // A token this process never issued (or whose call gave up) wakes nobody.
        this.calls.get(callId)?.resolve(outcome);
        continue;
      }
      // An owner that predates tokens: every call waiting on the id takes the outcome, as before tokens.
      const tokens = this.byTransaction.get(`${outcome.accountId}/${outcome.id}`);
      if (tokens) for (const token of [...tokens]) this.calls.get(token)?.resolve(outcome);
    }
  }
}

// The outcome waiter: each api replica subscribes to its own Redis channel,
// where partition owners announce the outcomes of the calls it took. A call
// registers before its message is produced, so no announcement can be missed.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Outcome } from '../common/types.js';
import { decodeAnnouncement, keys } from '../common/read-model.js';

type Resolver = (outcome: Outcome | undefined) => void;

export class OutcomeWaiter {
  private readonly waiting = new Map<string, Resolver[]>();
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
   * Starts waiting for the outcome of `accountId/id`; resolves with undefined
   * after `timeoutMs`. Call before producing the message.
   */
  wait(accountId: string, id: string, timeoutMs: number): { promise: Promise<Outcome | undefined>; cancel: () => void } {
    const key = `${accountId}/${id}`;
    let resolver!: Resolver;
    const promise = new Promise<Outcome | undefined>((resolve) => {
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done: Resolver = (outcome) => {
        clearTimeout(timer);
        this.remove(key, done);
        resolve(outcome);
      };
      resolver = done;
    });
    const list = this.waiting.get(key);
    if (list) list.push(resolver);
    else this.waiting.set(key, [resolver]);
    return { promise, cancel: () => resolver(undefined) };
  }

  get pending(): number {
    return this.waiting.size;
  }

  private remove(key: string, r: Resolver): void {
    const list = this.waiting.get(key);
    if (!list) return;
    const i = list.indexOf(r);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.waiting.delete(key);
  }

  private deliver(payload: string): void {
    let outcomes: Outcome[];
    try {
      outcomes = decodeAnnouncement(payload);
    } catch (err) {
      this.log.error({ err }, 'unreadable outcome announcement');
      return;
    }
    for (const o of outcomes) {
      const list = this.waiting.get(`${o.accountId}/${o.id}`);
      if (list) for (const r of [...list]) r(o);
    }
  }
}

// Delivering one batch of events to one endpoint (docs/webhooks.md), with no
// Kafka in sight: the consumer (webhooks/endpoint-consumer.ts) hands the
// batch in and commits its offset only when this says every event of it is
// delivered or dead-lettered. Events the endpoint does not want are skipped.
// The others are grouped by account: accounts go side by side, each
// account's events strictly one after another, so an endpoint sees an
// account's events in the order the ledger decided them (until one is
// dead-lettered, which the next ones then pass).
//
// A failed attempt is tried again after a backoff (webhooks/retry-policy.ts)
// until the account's deliveries to this endpoint have been failing for the
// horizon: from the first failed attempt after the account's last success,
// across batches. Past it the event becomes a dead letter; the account's next
// events then get one attempt each until one is delivered, so an endpoint
// that is down does not hold every event of an account for a whole horizon.
// An account with no failed attempt for a horizon is forgotten: its next
// failure starts a horizon afresh, and a dead endpoint's accounts do not
// pile up in memory.
import type { Limiter } from './limiter.js';
import { retryDelay, type RetryPolicy } from './retry-policy.js';

/** One event as the topic holds it. */
export interface WebhookEvent {
  eventId: string;
  accountId: string;
  type: string;
  /** The event's JSON exactly as it is on the topic: what is posted and signed. */
  body: string;
}

export type AttemptFailure = 'status' | 'timeout' | 'network';

export type AttemptResult = { ok: true } | { ok: false; reason: AttemptFailure; error: string };

/** Posts an event once (webhooks/http-sender.ts); never throws. */
export type Sender = (event: WebhookEvent) => Promise<AttemptResult>;

/** What the dispatcher gave up on, for its dead-letter document. */
export interface GivenUp {
  event: WebhookEvent;
  attempts: number;
  lastError: string;
  firstAttemptAt: number;
  lastAttemptAt: number;
}

export interface DeliveryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Told of each outcome, for the metrics. */
export interface DeliveryObserver {
  delivered(event: WebhookEvent): void;
  deadLettered(event: WebhookEvent): void;
  skipped(event: WebhookEvent): void;
  attemptFailed(reason: AttemptFailure): void;
  /** +1 when an event starts waiting for a retry, -1 when it stops. */
  waiting(change: 1 | -1): void;
}

export interface EndpointDeliveryDeps {
  send: Sender;
  /** Stores a dead letter; a failure is tried again until it succeeds or the batch stops. */
  deadLetter: (given: GivenUp) => Promise<void>;
  /** Whether the endpoint receives the event (its type and account filter). */
  wants: (event: WebhookEvent) => boolean;
  limiter: Limiter;
  policy: RetryPolicy;
  clock: DeliveryClock;
  random?: () => number;
  observer?: DeliveryObserver;
  /** Told when storing a dead letter failed (it is tried again). */
  onStoreFailure?: (err: unknown) => void;
}

/** Whether the batch should stop where it is: the consumer is stopping, or its partition was taken or sought. */
export interface BatchControl {
  stopped(): boolean;
}

/** The longest one sleep lasts before the stop is looked at again. */
const SLEEP_SLICE_MS = 500;
/** How long a failed dead-letter write waits before the next, at most. */
const STORE_RETRY_MAX_MS = 10_000;
/** How often the accounts failing no more are looked for. */
const FORGET_EVERY_MS = 60_000;

interface Failing {
  /** The first failed attempt since the account's last success. */
  since: number;
  last: number;
}

export class EndpointDelivery {
  /** The accounts whose deliveries are failing. */
  private readonly failing = new Map<string, Failing>();
  private forgotAt = 0;

  constructor(private readonly deps: EndpointDeliveryDeps) {}

  /** Accounts whose deliveries are failing now. */
  get failingAccounts(): number {
    return this.failing.size;
  }

  /** True once every event is delivered, dead-lettered or skipped; false when stopped first (nothing may be committed). */
  async deliverBatch(events: readonly WebhookEvent[], control: BatchControl): Promise<boolean> {
    this.forgetQuietAccounts();
    const lanes = new Map<string, WebhookEvent[]>();
    for (const event of events) {
      if (!this.deps.wants(event)) {
        this.deps.observer?.skipped(event);
        continue;
      }
      const lane = lanes.get(event.accountId);
      if (lane) lane.push(event);
      else lanes.set(event.accountId, [event]);
    }
    const done = await Promise.all([...lanes.values()].map((lane) => this.deliverLane(lane, control)));
    return done.every(Boolean);
  }

  /** One account's events, each finished before the next starts. */
  private async deliverLane(lane: readonly WebhookEvent[], control: BatchControl): Promise<boolean> {
    for (const event of lane) if (!(await this.deliverEvent(event, control))) return false;
    return true;
  }

  /** Tries `event` until it is delivered or dead-lettered (true), or the batch stops (false). */
  private async deliverEvent(event: WebhookEvent, control: BatchControl): Promise<boolean> {
    const { clock, policy, observer } = this.deps;
    let attempts = 0;
    let firstAttemptAt: number | undefined;
    for (;;) {
      if (control.stopped()) return false;
      const startedAt = clock.now();
      firstAttemptAt ??= startedAt;
      const result = await this.deps.limiter.run(() => this.deps.send(event));
      attempts++;
      if (result.ok) {
        this.failing.delete(event.accountId);
        observer?.delivered(event);
        return true;
      }
      observer?.attemptFailed(result.reason);
      const now = clock.now();
      const since = this.failing.get(event.accountId)?.since ?? startedAt;
      this.failing.set(event.accountId, { since, last: now });
      const deadline = since + policy.horizonMs;
      if (now >= deadline) {
        const given: GivenUp = { event, attempts, lastError: result.error, firstAttemptAt, lastAttemptAt: startedAt };
        if (!(await this.storeDeadLetter(given, control))) return false;
        observer?.deadLettered(event);
        return true;
      }
      observer?.waiting(1);
      try {
        await this.sleep(Math.min(retryDelay(attempts, policy, this.deps.random), deadline - now), control);
      } finally {
        observer?.waiting(-1);
      }
    }
  }

  private async storeDeadLetter(given: GivenUp, control: BatchControl): Promise<boolean> {
    for (let failures = 0; ; failures++) {
      try {
        await this.deps.deadLetter(given);
        return true;
      } catch (err) {
        this.deps.onStoreFailure?.(err);
        if (control.stopped()) return false;
        await this.sleep(Math.min(250 * 2 ** Math.min(failures, 10), STORE_RETRY_MAX_MS), control);
      }
    }
  }

  /** Drops the accounts with no failed attempt for a horizon (at most once a minute: it reads them all). */
  private forgetQuietAccounts(): void {
    const now = this.deps.clock.now();
    if (now - this.forgotAt < FORGET_EVERY_MS) return;
    this.forgotAt = now;
    for (const [account, { last }] of this.failing) if (now - last >= this.deps.policy.horizonMs) this.failing.delete(account);
  }

  /** Sleeps `ms`, in slices, returning early once the batch is stopped. */
  private async sleep(ms: number, control: BatchControl): Promise<void> {
    const until = this.deps.clock.now() + ms;
    for (let left = ms; left > 0 && !control.stopped(); left = until - this.deps.clock.now()) {
      await this.deps.clock.sleep(Math.min(left, SLEEP_SLICE_MS));
    }
  }
}

// What a partition batch publishes to Kafka before its offset is committed,
// each retried until the broker takes it (common/retry.ts): the dead letters,
// the messages the batch mints (transfer credits and returns, the cancels of
// requests approved after their callers were answered), and the events of
// the ledger documents it writes. A batch decided again after a crash
// publishes all of them again, with the same ids.
import type { Logger } from 'pino';
import { retry } from '../common/retry.js';
import type { LedgerDoc } from '../common/types.js';
import type { BatchDecision } from './batch-decision.js';
import type { DeadLetterPublisher } from './dead-letter.js';
import type { EventPublisher } from './event-publisher.js';
import { lateCancels } from './late-cancel.js';
import type { MintedPublisher } from './minted-publisher.js';
import { warnBeforeRetry } from './retry-log.js';

export interface BatchPublishingDeps {
  deadLetters: Pick<DeadLetterPublisher, 'publish'>;
  /** Where the messages the batch mints go: late cancels, transfer credits and returns. */
  minted: Pick<MintedPublisher, 'publish'>;
  /** Where the ledger documents' events go; absent when events are off (EVENTS_ENABLED=false). */
  events?: Pick<EventPublisher, 'publish'>;
  log: Logger;
  /** True once the consumer is stopping: retries end, and the last error is thrown. */
  stopping: () => boolean;
  /** The owner's wall clock, by which a request is judged approved too late. */
  now?: () => number;
}

export interface BatchPublishingOptions {
  /** The transaction topic, named in each dead letter's headers. */
  topic: string;
  /** How far past its `answerBy` a request's approval must be for the owner to cancel it (consumer/late-cancel.ts). */
  lateCancelMarginMs: number;
}

const BACKOFF = { firstDelayMs: 100, maxDelayMs: 5000 } as const;

export class BatchPublishing {
  constructor(
    private readonly deps: BatchPublishingDeps,
    private readonly options: BatchPublishingOptions,
  ) {}

  deadLetters(partition: number, decision: BatchDecision): Promise<void> {
    return retry(() => this.deps.deadLetters.publish(this.options.topic, partition, decision.deadLetters), {
      what: 'dead-letter',
      ...BACKOFF,
      stop: this.deps.stopping,
      onFailure: warnBeforeRetry(this.deps.log, 'write failed; retrying'),
    });
  }

  /** The transfer legs the batch minted, and the cancels of its late approvals (consumer/minted-publisher.ts). */
  minted(partition: number, decision: BatchDecision): Promise<void> {
    const cancels = lateCancels(decision.approvals, (this.deps.now ?? Date.now)(), this.options.lateCancelMarginMs);
    if (cancels.length > 0) {
      this.deps.log.warn({ partition, requests: cancels.map((cancel) => cancel.requestId) }, 'requests approved after their callers were answered timeout; cancelling them');
    }
    const messages = [...decision.minted, ...cancels];
    if (messages.length === 0) return Promise.resolve();
    return retry(() => this.deps.minted.publish(messages), {
      what: 'minted messages',
      ...BACKOFF,
      stop: this.deps.stopping,
      onFailure: warnBeforeRetry(this.deps.log, 'publish failed; retrying', { partition, messages: messages.length }),
    });
  }

  /**
   * The events of the documents the batch writes: only those of records at
   * or after the owner's `writtenBefore`, since `decideBatch` documents
   * nothing before it (those events were published by the owner that wrote them).
   */
  events(partition: number, docs: readonly LedgerDoc[]): Promise<void> {
    const { events } = this.deps;
    if (!events || docs.length === 0) return Promise.resolve();
    return retry(() => events.publish(docs), {
      what: 'ledger events',
      ...BACKOFF,
      stop: this.deps.stopping,
      onFailure: warnBeforeRetry(this.deps.log, 'publish failed; retrying', { partition, events: docs.length }),
    });
  }
}

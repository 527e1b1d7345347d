// One endpoint's consumer (docs/webhooks.md): a kafkajs consumer of its own,
// in the group `teller-webhooks-<endpointId>`, on the events topic, with
// offsets committed by hand. Its place on the topic is its own, so a slow or
// dead endpoint holds back neither the others nor the ledger. Each batch is
// delivered by webhooks/batch-delivery.ts; its offset is committed once every
// event of it is delivered or dead-lettered, and not at all if the consumer
// stops first, so a batch cut short is read and delivered again (the same
// `webhook-id`s: receivers deduplicate by it).
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { consumerGroupOf, endpointWants, signingKey, type WebhookDeadLetterDoc, type WebhookEndpointDoc } from '../common/webhooks.js';
import { EndpointDelivery, type AttemptResult, type DeliveryClock, type WebhookEvent } from './batch-delivery.js';
import { httpSender } from './http-sender.js';
import { Limiter } from './limiter.js';
import type { RetryPolicy } from './retry-policy.js';
import { positionGroup } from './start-position.js';
import type { WebhookDocuments } from './webhook-documents.js';
import type { WebhookMetrics } from './webhook-metrics.js';

export interface EndpointSettings {
  topic: string;
  /** The events topic's partitions: each is consumed beside the others. */
  partitions: number;
  sessionTimeoutMs: number;
  timeoutMs: number;
  concurrency: number;
  policy: RetryPolicy;
}

export interface EndpointConsumerDeps {
  kafka: Pick<Kafka, 'consumer'>;
  admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets' | 'setOffsets'>;
  documents: Pick<WebhookDocuments, 'insertDeadLetter'>;
  metrics: WebhookMetrics;
  log: Logger;
  clock: DeliveryClock;
}

/** kafkajs's errors that mean the group is rebalancing: the batch stops, and is read again once the member has rejoined. */
const REBALANCING = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP']);
/** How often a batch that waits (on an endpoint, or for a retry) heartbeats; kafkajs sends at most one per heartbeat interval. */
const HEARTBEAT_EVERY_MS = 1000;
/** Small fetches: a batch cut short by a restart is delivered again whole, so it is kept short. */
const MAX_BYTES_PER_PARTITION = 128 * 1024;

/** An event as the topic holds it; undefined for a record that is no event. */
export function eventOf(message: Pick<KafkaMessage, 'value'>): WebhookEvent | undefined {
  if (!message.value) return undefined;
  const body = message.value.toString('utf8');
  try {
    const parsed = JSON.parse(body) as Partial<Record<'eventId' | 'accountId' | 'type', unknown>>;
    const { eventId, accountId, type } = parsed;
    if (typeof eventId === 'string' && typeof accountId === 'string' && typeof type === 'string') return { eventId, accountId, type, body };
  } catch {
    // Not JSON: no event.
  }
  return undefined;
}

export class EndpointConsumer {
  readonly id: string;
  private readonly limiter: Limiter;
  private readonly send;
  private readonly delivery: EndpointDelivery;
  private readonly log: Logger;
  private consumer: Consumer | undefined;
  private stopping = false;
  /** Per partition, the next offset to process: what the group has committed. */
  private readonly processed = new Map<number, number>();

  constructor(
    readonly endpoint: WebhookEndpointDoc,
    private readonly settings: EndpointSettings,
    private readonly deps: EndpointConsumerDeps,
  ) {
    this.id = endpoint._id;
    this.log = deps.log.child({ endpoint: this.id });
    this.limiter = new Limiter(settings.concurrency);
    const secret = endpoint.secret ?? '';
    signingKey(secret); // throws for an endpoint that could sign nothing: it is not started
    this.send = httpSender({ url: endpoint.url, secret, timeoutMs: settings.timeoutMs, onAttempt: (ms) => deps.metrics.attempted(ms) });
    this.delivery = new EndpointDelivery({
      send: this.send,
      deadLetter: async (given) => {
        await deps.documents.insertDeadLetter(this.id, given);
        this.log.warn({ eventId: given.event.eventId, attempts: given.attempts, lastError: given.lastError }, 'dead-lettered');
      },
      wants: (event) => endpointWants(endpoint, event),
      limiter: this.limiter,
      policy: settings.policy,
      clock: deps.clock,
      observer: deps.metrics.observer(this.id),
      onStoreFailure: (err) => this.log.warn({ err: (err as Error).message }, 'dead letter not stored; retrying'),
    });
  }

  /** Positions the group where the endpoint starts (if it never committed), then joins it. */
  async start(): Promise<void> {
    const { topic } = this.settings;
    const groupId = consumerGroupOf(this.id);
    for (const [partition, offset] of await positionGroup(this.deps.admin, groupId, topic, this.endpoint.startOffsets)) this.processed.set(partition, offset);
    const consumer = this.deps.kafka.consumer({
      groupId,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: Math.floor(this.settings.sessionTimeoutMs / 4),
      // An idle endpoint asks the broker once a second; an event comes back at once whatever this is.
      maxWaitTimeInMs: 1000,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => this.log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed'));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.partitions,
      eachBatch: (payload) => this.handle(payload),
    });
  }

  /** Stops where it is: batches in flight end without their commit and are read again by the next run. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect();
  }

  /** Events on the topic past what the endpoint has processed, given each partition's end offset. */
  lag(ends: readonly number[]): number {
    let lag = 0;
    ends.forEach((end, partition) => (lag += Math.max(0, end - (this.processed.get(partition) ?? end))));
    return lag;
  }

  /** One more attempt at a dead letter, within the endpoint's bound on requests. */
  redeliver(letter: WebhookDeadLetterDoc): Promise<AttemptResult> {
    return this.limiter.run(() => this.send({ eventId: letter.eventId, accountId: letter.accountId, type: letter.eventType, body: letter.body }));
  }

  private async handle({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const events: WebhookEvent[] = [];
    for (const message of batch.messages) {
      const event = eventOf(message);
      if (event) events.push(event);
      else this.log.error({ partition: batch.partition, offset: message.offset }, 'a record of the events topic is no event: skipped');
    }
    let rebalancing = false;
    const beat = setInterval(() => {
      heartbeat().catch((err: { type?: string }) => {
        if (err.type !== undefined && REBALANCING.has(err.type)) rebalancing = true;
      });
    }, HEARTBEAT_EVERY_MS);
    try {
      const done = await this.delivery.deliverBatch(events, { stopped: () => this.stopping || rebalancing || !isRunning() || isStale() });
      if (!done) return;
      const next = Number(batch.lastOffset()) + 1;
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(next) }] }] });
      this.processed.set(batch.partition, next);
    } finally {
      clearInterval(beat);
    }
  }
}

// The dispatcher's endpoints (docs/webhooks.md): every reload it reads the
// active endpoints from MongoDB, starts a consumer for each new one and stops
// the consumer of each one deleted (deleting its consumer group and any dead
// letter written meanwhile). It also measures each endpoint's lag against
// the events topic's end offsets, and counts its dead letters.
import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { consumerGroupOf, endsByPartition, type WebhookEndpointDoc } from '../common/webhooks.js';
import type { EndpointConsumer } from './endpoint-consumer.js';
import type { WebhookDocuments } from './webhook-documents.js';
import type { WebhookMetrics } from './webhook-metrics.js';

export interface DispatcherDeps {
  documents: Pick<WebhookDocuments, 'endpointsIn' | 'removeDeadLettersOf' | 'countDeadLetters'>;
  admin: Pick<Admin, 'fetchTopicOffsets' | 'listGroups' | 'deleteGroups'>;
  createConsumer: (endpoint: WebhookEndpointDoc) => EndpointConsumer;
  metrics: WebhookMetrics;
  log: Logger;
  topic: string;
}

/** Dead letters are counted this often: a count query an endpoint, which every reload would multiply. */
const COUNT_EVERY_MS = 30_000;

export class Dispatcher {
  private readonly running = new Map<string, EndpointConsumer>();
  private countedAt = 0;

  constructor(private readonly deps: DispatcherDeps) {}

  /** The consumer of a running endpoint. */
  consumerOf(endpointId: string): EndpointConsumer | undefined {
    return this.running.get(endpointId);
  }

  /** Starts the consumers of new endpoints and stops those of deleted ones. An endpoint that fails to start is tried again next time. */
  async reload(): Promise<void> {
    const { log } = this.deps;
    const active = await this.deps.documents.endpointsIn('active', (err) => log.error({ err: err.message }, 'an endpoint cannot be read: not delivered to'));
    const ids = new Set(active.map((endpoint) => endpoint._id));
    for (const [id, consumer] of this.running) if (!ids.has(id)) await this.retire(consumer);
    await Promise.all(active.filter((endpoint) => !this.running.has(endpoint._id)).map((endpoint) => this.launch(endpoint)));
    this.deps.metrics.endpointsRunning(this.running.size);
  }

  /** Each running endpoint's lag, and every COUNT_EVERY_MS its dead letters, into the metrics. */
  async measure(now = Date.now()): Promise<void> {
    if (this.running.size === 0) return;
    const ends = endsByPartition(await this.deps.admin.fetchTopicOffsets(this.deps.topic));
    for (const [id, consumer] of this.running) this.deps.metrics.lagOf(id, consumer.lag(ends));
    if (now - this.countedAt < COUNT_EVERY_MS) return;
    this.countedAt = now;
    for (const id of this.running.keys()) this.deps.metrics.deadLettersOf(id, await this.deps.documents.countDeadLetters(id));
  }

  /** At start: the consumer groups of endpoints deleted while no dispatcher ran to delete them. */
  async deleteLeftoverGroups(): Promise<void> {
    const deleted = await this.deps.documents.endpointsIn('deleted', () => undefined);
    if (deleted.length === 0) return;
    const existing = new Set((await this.deps.admin.listGroups()).groups.map((group) => group.groupId));
    const leftovers = deleted.map((endpoint) => consumerGroupOf(endpoint._id)).filter((group) => existing.has(group));
    if (leftovers.length > 0) await this.deps.admin.deleteGroups(leftovers);
    this.deps.log.info({ groups: leftovers.length }, 'consumer groups of deleted endpoints deleted');
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.running.values()].map((consumer) => consumer.stop()));
    this.running.clear();
  }

  private async launch(endpoint: WebhookEndpointDoc): Promise<void> {
    let consumer: EndpointConsumer | undefined;
    try {
      consumer = this.deps.createConsumer(endpoint);
      await consumer.start();
      this.running.set(endpoint._id, consumer);
      this.deps.log.info({ endpoint: endpoint._id, url: endpoint.url }, 'delivering to the endpoint');
    } catch (err) {
      // A member of a dispatcher that was killed stays in the group until its session ends, and the
      // group cannot be positioned before that: the next reload tries again.
      this.deps.log.warn({ endpoint: endpoint._id, err: (err as Error).message }, 'endpoint not started yet; trying again at the next reload');
      await consumer?.stop().catch(() => undefined);
    }
  }

  private async retire(consumer: EndpointConsumer): Promise<void> {
    const { id } = consumer;
    this.running.delete(id);
    await consumer.stop();
    this.deps.metrics.forget(id);
    try {
      await this.deps.documents.removeDeadLettersOf(id);
      await this.deps.admin.deleteGroups([consumerGroupOf(id)]);
    } catch (err) {
      this.deps.log.warn({ endpoint: id, err: (err as Error).message }, 'a deleted endpoint not cleaned up; its group is deleted at the next start');
    }
    this.deps.log.info({ endpoint: id }, 'endpoint deleted: no longer delivered to');
  }
}

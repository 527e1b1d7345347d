// Redelivery of dead letters (docs/webhooks.md): the api marks an endpoint's
// dead letters `redeliver`; every round this reads those marked, posts each
// once more through its endpoint's sender (its signature, its bound on
// requests), deletes it once delivered, and marks it `dead` again, with the
// attempt counted, when it fails. A redelivered event comes after the events
// that followed it: receivers order by the event, not by arrival.
import type { Logger } from 'pino';
import type { WebhookDeadLetterDoc } from '../common/webhooks.js';
import type { EndpointConsumer } from './endpoint-consumer.js';
import type { WebhookDocuments } from './webhook-documents.js';
import type { WebhookMetrics } from './webhook-metrics.js';

/** Dead letters read per round at most. */
const ROUND_LIMIT = 200;

export interface RedeliveryDeps {
  documents: Pick<WebhookDocuments, 'markedForRedelivery' | 'removeDeadLetter' | 'redeliveryFailed'>;
  consumerOf: (endpointId: string) => Pick<EndpointConsumer, 'redeliver'> | undefined;
  metrics: Pick<WebhookMetrics, 'outcome'>;
  log: Logger;
  now?: () => number;
}

export class Redelivery {
  constructor(private readonly deps: RedeliveryDeps) {}

  async round(): Promise<void> {
    const letters = await this.deps.documents.markedForRedelivery(ROUND_LIMIT);
    await Promise.all(letters.map((letter) => this.redeliver(letter)));
  }

  private async redeliver(letter: WebhookDeadLetterDoc): Promise<void> {
    // An endpoint not started yet is served at a later round; a deleted one's letters are deleted with it.
    const consumer = this.deps.consumerOf(letter.endpointId);
    if (!consumer) return;
    const result = await consumer.redeliver(letter);
    try {
      if (result.ok) {
        await this.deps.documents.removeDeadLetter(letter._id);
        this.deps.metrics.outcome(letter.endpointId, 'redelivered');
      } else {
        await this.deps.documents.redeliveryFailed(letter, result.error, (this.deps.now ?? Date.now)());
        this.deps.metrics.outcome(letter.endpointId, 'redelivery_failed');
      }
      this.deps.log.info({ endpoint: letter.endpointId, eventId: letter.eventId, delivered: result.ok }, 'dead letter redelivered');
    } catch (err) {
      // Delivered and not deleted: the letter is posted again next round, a repeat its receiver deduplicates.
      this.deps.log.warn({ endpoint: letter.endpointId, eventId: letter.eventId, err: (err as Error).message }, 'dead letter not updated after its redelivery');
    }
  }
}

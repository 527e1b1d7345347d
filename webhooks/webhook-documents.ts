// The dispatcher's side of the webhook collections (common/webhooks.ts): it
// reads the endpoints the api registered, writes the dead letters, and
// delivers again those the api marked for redelivery. The api lists the dead
// letters, marks them (`dead` to `redeliver`) and drops them with their
// endpoint; the dispatcher alone inserts them, and alone moves one marked
// for redelivery on (deleted once delivered, back to `dead` if it fails
// again), so no document is updated from two sides at once but by a mark
// crossing a redelivery, which either way leaves a letter to deliver again.
import type { Collection, Db } from 'mongodb';
import {
  checkFormat,
  deadLetterId,
  WEBHOOK_COLLECTIONS,
  WEBHOOK_DEAD_LETTER_INDEXES,
  WEBHOOKS_FORMAT_VERSION,
  type WebhookDeadLetterDoc,
  type WebhookEndpointDoc,
} from '../common/webhooks.js';
import type { GivenUp } from './batch-delivery.js';

const DUPLICATE_KEY = 11000;

export class WebhookDocuments {
  private readonly endpoints: Collection<WebhookEndpointDoc>;
  private readonly letters: Collection<WebhookDeadLetterDoc>;

  constructor(db: Db) {
    this.endpoints = db.collection<WebhookEndpointDoc>(WEBHOOK_COLLECTIONS.endpoints);
    this.letters = db.collection<WebhookDeadLetterDoc>(WEBHOOK_COLLECTIONS.deadLetters);
  }

  /** Idempotent. */
  async ensureIndexes(): Promise<void> {
    for (const index of WEBHOOK_DEAD_LETTER_INDEXES) await this.letters.createIndex(index.key, { name: index.name });
  }

  /** Every document of `state`: the active endpoints, or the tombstones of deleted ones. Documents in an unknown format are left out and named. */
  async endpointsIn(state: WebhookEndpointDoc['state'], onUnreadable: (err: Error) => void): Promise<WebhookEndpointDoc[]> {
    const docs = await this.endpoints.find({ state }).toArray();
    return docs.filter((doc) => {
      try {
        checkFormat('webhook endpoint', doc);
        return true;
      } catch (err) {
        onUnreadable(err as Error);
        return false;
      }
    });
  }

  /**
   * Records an event given up on. A dead letter that is there already (the
   * same event given up on again, its batch read again after a restart)
   * stays as it is.
   */
  async insertDeadLetter(endpointId: string, given: GivenUp): Promise<void> {
    try {
      await this.letters.insertOne(deadLetterDocument(endpointId, given));
    } catch (err) {
      if ((err as { code?: unknown }).code !== DUPLICATE_KEY) throw err;
    }
  }

  /** Up to `limit` dead letters marked for redelivery, of every endpoint. */
  async markedForRedelivery(limit: number): Promise<WebhookDeadLetterDoc[]> {
    const docs = await this.letters.find({ state: 'redeliver' }).limit(limit).toArray();
    return docs.filter((doc) => doc.v === WEBHOOKS_FORMAT_VERSION);
  }

  /** A redelivered dead letter that was delivered. */
  async removeDeadLetter(id: string): Promise<void> {
    await this.letters.deleteOne({ _id: id });
  }

  /** A redelivery that failed: the letter is dead again, with one attempt more. */
  async redeliveryFailed(letter: WebhookDeadLetterDoc, lastError: string, at: number): Promise<void> {
    await this.letters.updateOne({ _id: letter._id, state: 'redeliver' }, { $set: { state: 'dead', lastError, lastAttemptAt: at, attempts: letter.attempts + 1 } });
  }

  /** A deleted endpoint's dead letters (the api drops them on delete; one written meanwhile goes here). */
  async removeDeadLettersOf(endpointId: string): Promise<void> {
    await this.letters.deleteMany({ endpointId });
  }

  countDeadLetters(endpointId: string): Promise<number> {
    return this.letters.countDocuments({ endpointId });
  }
}

/** The dead letter of an event given up on, for `endpointId`. */
export function deadLetterDocument(endpointId: string, given: GivenUp): WebhookDeadLetterDoc {
  const { event } = given;
  return {
    _id: deadLetterId(endpointId, event.eventId),
    v: WEBHOOKS_FORMAT_VERSION,
    endpointId,
    eventId: event.eventId,
    accountId: event.accountId,
    eventType: event.type,
    body: event.body,
    attempts: given.attempts,
    lastError: given.lastError,
    firstAttemptAt: given.firstAttemptAt,
    lastAttemptAt: given.lastAttemptAt,
    state: 'dead',
  };
}

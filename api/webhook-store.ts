// Where the api keeps webhook endpoints and reads their dead letters
// (common/webhooks.ts is the contract, docs/webhooks.md the design): MongoDB,
// the collections `webhook_endpoints` and `webhook_dead_letters`. The
// dispatcher (webhooks/) reads what this writes. A database that cannot be
// reached is a 503 `webhooks-unavailable`, whatever the driver's error.
import type { Collection, Db } from 'mongodb';
import { createError, TellerError, TELLER_ERR_WEBHOOKS_UNAVAILABLE } from '../common/errors.js';
import { checkFormat, WEBHOOK_COLLECTIONS, type WebhookDeadLetterDoc, type WebhookEndpointDoc } from '../common/webhooks.js';

export interface WebhookStore {
  /** Inserts `endpoint` unless its id is taken (by an endpoint or a tombstone); answers what the id holds then. */
  create(endpoint: WebhookEndpointDoc): Promise<{ created: boolean; stored: WebhookEndpointDoc }>;
  /** The document of `id`, a deleted endpoint's tombstone included. */
  find(id: string): Promise<WebhookEndpointDoc | null>;
  /** The active endpoints, by id. */
  list(): Promise<WebhookEndpointDoc[]>;
  countActive(): Promise<number>;
  /** Turns an active endpoint into its tombstone and drops its dead letters; false when `id` is no active endpoint. */
  remove(id: string, nowMs: number): Promise<boolean>;
  /** Up to `limit` of an endpoint's dead letters, oldest first. */
  deadLetters(endpointId: string, limit: number): Promise<WebhookDeadLetterDoc[]>;
  /** Marks an endpoint's dead letters (those of `eventIds`, or all) for the dispatcher to deliver again; answers how many. */
  markForRedelivery(endpointId: string, eventIds?: readonly string[]): Promise<number>;
}

/** The end offset of each partition of the events topic, by partition number. */
export type EventsTopicEnds = () => Promise<number[]>;

const DUPLICATE_KEY = 11000;

function unavailable(err: unknown): TellerError {
  if (err instanceof TellerError) return err;
  return new TellerError(TELLER_ERR_WEBHOOKS_UNAVAILABLE, TELLER_ERR_WEBHOOKS_UNAVAILABLE.message(), {}, { cause: err });
}

/** Runs a database call; any failure of the database is the catalogue's 503. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw unavailable(err);
  }
}

export class MongoWebhookStore implements WebhookStore {
  private readonly endpoints: Collection<WebhookEndpointDoc>;
  private readonly letters: Collection<WebhookDeadLetterDoc>;

  constructor(db: Db) {
    this.endpoints = db.collection<WebhookEndpointDoc>(WEBHOOK_COLLECTIONS.endpoints);
    this.letters = db.collection<WebhookDeadLetterDoc>(WEBHOOK_COLLECTIONS.deadLetters);
  }

  async create(endpoint: WebhookEndpointDoc): Promise<{ created: boolean; stored: WebhookEndpointDoc }> {
    try {
      await this.endpoints.insertOne(endpoint);
      return { created: true, stored: endpoint };
    } catch (err) {
      if ((err as { code?: unknown }).code !== DUPLICATE_KEY) throw unavailable(err);
    }
    // Another call with the same id got there first (another replica, a retry): what it stored decides.
    const stored = await this.find(endpoint._id);
    if (!stored) throw createError(TELLER_ERR_WEBHOOKS_UNAVAILABLE);
    return { created: false, stored };
  }

  async find(id: string): Promise<WebhookEndpointDoc | null> {
    const doc = await guarded(() => this.endpoints.findOne({ _id: id }));
    return doc && checkFormat('webhook endpoint', doc);
  }

  async list(): Promise<WebhookEndpointDoc[]> {
    const docs = await guarded(() => this.endpoints.find({ state: 'active' }).toArray());
    return docs.map((doc) => checkFormat('webhook endpoint', doc)).sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  }

  countActive(): Promise<number> {
    return guarded(() => this.endpoints.countDocuments({ state: 'active' }));
  }

  async remove(id: string, nowMs: number): Promise<boolean> {
    // The state in the filter: of two deletes at once, one changes the document and the other finds nothing.
    const result = await guarded(() => this.endpoints.updateOne({ _id: id, state: 'active' }, { $set: { state: 'deleted', deletedAt: nowMs }, $unset: { secret: '' } }));
    if (result.matchedCount === 0) return false;
    await guarded(() => this.letters.deleteMany({ endpointId: id }));
    return true;
  }

  async deadLetters(endpointId: string, limit: number): Promise<WebhookDeadLetterDoc[]> {
    const docs = await guarded(() => this.letters.find({ endpointId }).sort({ firstAttemptAt: 1, _id: 1 }).limit(limit).toArray());
    return docs.map((doc) => checkFormat('webhook dead letter', doc));
  }

  async markForRedelivery(endpointId: string, eventIds?: readonly string[]): Promise<number> {
    const filter = eventIds === undefined ? { endpointId, state: 'dead' as const } : { endpointId, state: 'dead' as const, eventId: { $in: [...eventIds] } };
    const result = await guarded(() => this.letters.updateMany(filter, { $set: { state: 'redeliver' } }));
    return result.modifiedCount;
  }
}

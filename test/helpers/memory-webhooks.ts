// The webhook store (api/webhook-store.ts) in memory, with the same rules as
// the MongoDB one: an id is taken once, a delete leaves a tombstone and drops
// the endpoint's dead letters, redelivery marks only dead letters that are `dead`.
import { createError, TELLER_ERR_WEBHOOKS_UNAVAILABLE } from '../../common/errors.js';
import type { WebhookDeadLetterDoc, WebhookEndpointDoc } from '../../common/webhooks.js';
import type { WebhookStore } from '../../api/webhook-store.js';
import { deadLetterDocument } from '../../webhooks/webhook-documents.js';

export class MemoryWebhookStore implements WebhookStore {
  readonly endpoints = new Map<string, WebhookEndpointDoc>();
  readonly letters = new Map<string, WebhookDeadLetterDoc>();
  /** Set to make every call fail as an unreachable database does. */
  down = false;

  private check(): void {
    if (this.down) throw createError(TELLER_ERR_WEBHOOKS_UNAVAILABLE);
  }

  async create(endpoint: WebhookEndpointDoc) {
    this.check();
    const stored = this.endpoints.get(endpoint._id);
    if (stored) return { created: false, stored: structuredClone(stored) };
    this.endpoints.set(endpoint._id, structuredClone(endpoint));
    return { created: true, stored: structuredClone(endpoint) };
  }

  async find(id: string) {
    this.check();
    const doc = this.endpoints.get(id);
    return doc ? structuredClone(doc) : null;
  }

  async list() {
    this.check();
    return [...this.endpoints.values()].filter((doc) => doc.state === 'active').sort((a, b) => (a._id < b._id ? -1 : 1)).map((doc) => structuredClone(doc));
  }

  async countActive() {
    this.check();
    return [...this.endpoints.values()].filter((doc) => doc.state === 'active').length;
  }

  async remove(id: string, nowMs: number) {
    this.check();
    const doc = this.endpoints.get(id);
    if (!doc || doc.state !== 'active') return false;
    const { secret: _secret, ...rest } = doc;
    this.endpoints.set(id, { ...rest, state: 'deleted', deletedAt: nowMs });
    for (const [key, letter] of this.letters) if (letter.endpointId === id) this.letters.delete(key);
    return true;
  }

  async deadLetters(endpointId: string, limit: number) {
    this.check();
    return [...this.letters.values()]
      .filter((letter) => letter.endpointId === endpointId)
      .sort((a, b) => a.firstAttemptAt - b.firstAttemptAt || (a._id < b._id ? -1 : 1))
      .slice(0, limit)
      .map((letter) => structuredClone(letter));
  }

  async markForRedelivery(endpointId: string, eventIds?: readonly string[]) {
    this.check();
    let marked = 0;
    for (const letter of this.letters.values()) {
      if (letter.endpointId !== endpointId || letter.state !== 'dead' || (eventIds !== undefined && !eventIds.includes(letter.eventId))) continue;
      letter.state = 'redeliver';
      marked++;
    }
    return marked;
  }

  /** A dead letter as the dispatcher writes one, for an event of `accountId`. */
  addDeadLetter(endpointId: string, event: { eventId: string; accountId: string; type: string }, at: number): WebhookDeadLetterDoc {
    const body = JSON.stringify({ v: 1, ...event });
    const letter = deadLetterDocument(endpointId, { event: { ...event, body }, attempts: 7, lastError: 'status 500', firstAttemptAt: at, lastAttemptAt: at + 60_000 });
    this.letters.set(letter._id, letter);
    return letter;
  }
}

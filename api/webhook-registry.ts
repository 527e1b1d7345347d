// Registering webhook endpoints (docs/webhooks.md), without HTTP: the id
// rules every write of Teller follows (the same id and body again answers the
// endpoint as it was registered; the same id with another body, or the id of
// an endpoint since deleted, is refused), the URL check, the bound on their
// number, and the events topic's end offsets recorded as the endpoint's start.
import { createError, TellerError, TELLER_ERR_WEBHOOK_ID_REUSED, TELLER_ERR_WEBHOOK_LIMIT, TELLER_ERR_WEBHOOK_URL_INVALID, TELLER_ERR_WEBHOOKS_UNAVAILABLE } from '../common/errors.js';
import { newSecret, webhookUrlProblem, WEBHOOKS_FORMAT_VERSION, type WebhookEndpointDoc } from '../common/webhooks.js';
import type { EventsTopicEnds, WebhookStore } from './webhook-store.js';

export interface RegistrationRequest {
  id: string;
  url: string;
  eventTypes?: readonly string[];
  accountId?: string;
}

export interface WebhookRegistryDeps {
  store: WebhookStore;
  eventsTopicEnds: EventsTopicEnds;
  /** WEBHOOKS_MAX_ENDPOINTS. */
  maxEndpoints: number;
  now?: () => number;
  secrets?: () => string;
}

/** What makes two registrations the same: the URL, the account, and the event types as a set. */
interface RegisteredBody {
  url: string;
  eventTypes?: string[];
  accountId?: string;
}

function bodyOf(request: RegistrationRequest): RegisteredBody {
  const body: RegisteredBody = { url: request.url };
  if (request.eventTypes !== undefined) body.eventTypes = [...new Set(request.eventTypes)].sort();
  if (request.accountId !== undefined) body.accountId = request.accountId;
  return body;
}

function sameBody(stored: WebhookEndpointDoc, wanted: RegisteredBody): boolean {
  return (
    stored.url === wanted.url &&
    stored.accountId === wanted.accountId &&
    JSON.stringify(stored.eventTypes ?? null) === JSON.stringify(wanted.eventTypes ?? null)
  );
}

export class WebhookRegistry {
  constructor(private readonly deps: WebhookRegistryDeps) {}

  get store(): WebhookStore {
    return this.deps.store;
  }

  /** The endpoint `request` registers, with whether this call created it (false: a repeat of the same registration). */
  async register(request: RegistrationRequest): Promise<{ created: boolean; endpoint: WebhookEndpointDoc }> {
    const problem = webhookUrlProblem(request.url);
    if (problem !== undefined) throw createError(TELLER_ERR_WEBHOOK_URL_INVALID, { problem });
    const wanted = bodyOf(request);
    const existing = await this.deps.store.find(request.id);
    if (existing) return { created: false, endpoint: repeatOf(existing, wanted) };
    // Read before the insert, so two registrations at once may both pass it: the bound is on resources, not exact.
    const max = this.deps.maxEndpoints;
    if ((await this.deps.store.countActive()) >= max) throw createError(TELLER_ERR_WEBHOOK_LIMIT, { max });
    const endpoint: WebhookEndpointDoc = {
      _id: request.id,
      v: WEBHOOKS_FORMAT_VERSION,
      ...wanted,
      secret: (this.deps.secrets ?? newSecret)(),
      state: 'active',
      startOffsets: await this.startOffsets(),
      createdAt: (this.deps.now ?? Date.now)(),
    };
    const { created, stored } = await this.deps.store.create(endpoint);
    return created ? { created, endpoint: stored } : { created, endpoint: repeatOf(stored, wanted) };
  }

  private async startOffsets(): Promise<number[]> {
    try {
      return await this.deps.eventsTopicEnds();
    } catch (err) {
      if (err instanceof TellerError) throw err;
      throw new TellerError(TELLER_ERR_WEBHOOKS_UNAVAILABLE, TELLER_ERR_WEBHOOKS_UNAVAILABLE.message(), {}, { cause: err });
    }
  }
}

/** What a repeat of a registration answers: the endpoint as stored, when it is the same registration. */
function repeatOf(stored: WebhookEndpointDoc, wanted: RegisteredBody): WebhookEndpointDoc {
  if (stored.state === 'deleted') throw createError(TELLER_ERR_WEBHOOK_ID_REUSED, { id: stored._id, deleted: true });
  if (!sameBody(stored, wanted)) throw createError(TELLER_ERR_WEBHOOK_ID_REUSED, { id: stored._id, deleted: false });
  return stored;
}

// The catalogue's entries for webhook endpoints (docs/webhooks.md), part of
// the one catalogue common/errors.ts exports; api/problem.ts maps them to HTTP.
import type { CatalogueEntry } from './errors.js';

/** Webhook endpoints (docs/webhooks.md): a URL the dispatcher would not post to (webhookUrlProblem in common/webhooks.ts). */
export const TELLER_ERR_WEBHOOK_URL_INVALID: CatalogueEntry<{ problem: string }> = { code: 'TELLER_ERR_WEBHOOK_URL_INVALID', retryable: false, message: ({ problem }) => `the webhook url ${problem}` };

/** An endpoint id registered with another body, or spent by an endpoint since deleted. */
export const TELLER_ERR_WEBHOOK_ID_REUSED: CatalogueEntry<{ id: string; deleted: boolean }> = {
  code: 'TELLER_ERR_WEBHOOK_ID_REUSED',
  retryable: false,
  message: ({ id, deleted }) => (deleted ? `webhook endpoint id ${id} belonged to an endpoint since deleted; an id is never used again` : `webhook endpoint id ${id} was already registered with another body`),
};

export const TELLER_ERR_WEBHOOK_NOT_FOUND: CatalogueEntry<{ id: string }> = { code: 'TELLER_ERR_WEBHOOK_NOT_FOUND', retryable: false, message: ({ id }) => `no webhook endpoint ${id}` };

/** Each endpoint costs the dispatcher a consumer of its own: their number is bounded (WEBHOOKS_MAX_ENDPOINTS). */
export const TELLER_ERR_WEBHOOK_LIMIT: CatalogueEntry<{ max: number }> = {
  code: 'TELLER_ERR_WEBHOOK_LIMIT',
  retryable: false,
  message: ({ max }) => `${max} webhook endpoints are registered, the most there may be; delete one first`,
  details: ({ max }) => ({ maxEndpoints: max }),
};

/** A key limited to some accounts, and an endpoint (or a listing) that would show every account's events. */
export const TELLER_ERR_WEBHOOK_FORBIDDEN: CatalogueEntry = {
  code: 'TELLER_ERR_WEBHOOK_FORBIDDEN',
  retryable: false,
  message: () => 'this API key may act on some accounts only, and an endpoint without accountId receives the events of every account',
};

/** The webhook endpoints or dead letters cannot be read or written (MongoDB), or the events topic's offsets read (Kafka). */
export const TELLER_ERR_WEBHOOKS_UNAVAILABLE: CatalogueEntry = { code: 'TELLER_ERR_WEBHOOKS_UNAVAILABLE', retryable: true, message: () => 'webhook endpoints cannot be read or registered now; retry shortly' };

// One delivery attempt over HTTP (docs/webhooks.md): a POST of the event's
// JSON exactly as the topic holds it, `content-type: application/json`, and
// the Standard Webhooks headers signed at the moment of the attempt. A 2xx
// answer is delivered; any other status (a redirect included: it is not
// followed), no answer within the timeout, or no connection is a failure.
// Node's fetch keeps connections to an endpoint open between attempts.
import { signatureHeaders } from '../common/webhooks.js';
import type { AttemptResult, Sender, WebhookEvent } from './batch-delivery.js';

export interface SenderOptions {
  url: string;
  secret: string;
  /** WEBHOOK_TIMEOUT_MS: until the answer's status and headers. */
  timeoutMs: number;
  now?: () => number;
  /** Told how long each attempt took, and how it ended (metrics). */
  onAttempt?: (ms: number, result: AttemptResult) => void;
}

export const USER_AGENT = 'Teller-Webhooks/1';

export function httpSender(options: SenderOptions): Sender {
  const now = options.now ?? Date.now;
  return async (event: WebhookEvent) => {
    const startedAt = Date.now();
    const result = await attempt(options, event, now());
    options.onAttempt?.(Date.now() - startedAt, result);
    return result;
  };
}

async function attempt({ url, secret, timeoutMs }: SenderOptions, event: WebhookEvent, atMs: number): Promise<AttemptResult> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signatureHeaders(secret, event.eventId, event.body, atMs) },
      body: event.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is of no use: dropped unread, whatever its size, so the connection is free again.
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true };
    return { ok: false, reason: 'status', error: `status ${response.status}` };
  } catch (err) {
    const error = err as Error & { cause?: { code?: string; message?: string } };
    if (error.name === 'TimeoutError') return { ok: false, reason: 'timeout', error: `no answer within ${timeoutMs} ms` };
    const cause = error.cause?.code ?? error.cause?.message ?? error.message;
    return { ok: false, reason: 'network', error: `no connection: ${cause}` };
  }
}

// Calls of the v1 resource API for tests, through NGINX unless a base URL is given.
import { baseUrl } from './stack.js';
import type { Reply } from './http.js';

export async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, base = baseUrl): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the text is kept for the assertion message.
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const acct = (a: string) => `/v1/accounts/${encodeURIComponent(a)}`;

export const v1 = {
  deposit: (a: string, body: object, headers?: Record<string, string>) => call('POST', `${acct(a)}/deposits`, body, headers),
  request: (a: string, body: object, headers?: Record<string, string>) => call('POST', `${acct(a)}/withdrawal-requests`, body, headers),
  withdraw: (a: string, body: object, headers?: Record<string, string>) => call('POST', `${acct(a)}/withdrawals`, body, headers),
  cancel: (a: string, requestId: string, body: object, headers?: Record<string, string>) =>
    call('POST', `${acct(a)}/withdrawal-requests/${encodeURIComponent(requestId)}/cancel`, body, headers),
  account: (a: string) => call('GET', acct(a)),
  statement: (a: string, query = '') => call('GET', `${acct(a)}/transactions${query}`),
  transaction: (id: string) => call('GET', `/v1/transactions/${encodeURIComponent(id)}`),
};

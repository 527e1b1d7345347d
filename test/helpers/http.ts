// A small HTTP client for tests: JSON in, status and parsed body out.
import { baseUrl } from './stack.js';

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

export async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, base = baseUrl): Promise<Reply> {
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
    // Not JSON: keep the text so a test can show what came back.
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export const post = (path: string, body?: unknown, headers?: Record<string, string>) => request('POST', path, body, headers);
export const get = (path: string) => request('GET', path);

export type TxType = 'deposit' | 'withdraw_request' | 'withdraw';

export function tx(id: string, type: TxType, amount: number, accountId: string): Promise<Reply> {
  return post('/transaction', { id, type, amount, accountId, timestamp: new Date().toISOString() });
}

export async function balanceOf(accountId: string): Promise<number> {
  const r = await get(`/account/${accountId}`);
  if (r.status !== 200) throw new Error(`GET /account/${accountId} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.balance;
}

/** Ids and accounts unique to one test run, so runs against a long-lived stack never collide. */
export function uniq(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

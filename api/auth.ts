// API keys. When API_KEYS is set, every call but the public ones (health,
// readiness, metrics, the OpenAPI document and its page, the events schema) needs
// `Authorization: Bearer <key>`, and a key may be limited to some accounts.
//
// API_KEYS holds no key, only SHA-256 digests: entries separated by `;`, each
// `<sha256 hex of the key>` (every account) or `<sha256 hex>:<account>|<account>...`.
// A key's digest: `printf %s "$KEY" | sha256sum`, or `npm run api-key`
// to mint a key with its entry. A presented key is hashed and compared with every
// digest with crypto.timingSafeEqual, all of them every time, so the answer's
// timing does not depend on which digest (or how much of one) matched.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createError, TELLER_ERR_AUTH_INVALID, TELLER_ERR_AUTH_MISSING, TELLER_ERR_FORBIDDEN } from '../common/errors.js';
import { ACCOUNT_ID_PATTERN } from '../common/message.js';

export interface ApiKey {
  /** SHA-256 of the key. */
  digest: Buffer;
  /** Accounts the key may touch; undefined for all. */
  accounts?: ReadonlySet<string>;
  /** The digest's first 8 hex digits: names the key in logs without revealing it. */
  label: string;
}

const ACCOUNT = new RegExp(ACCOUNT_ID_PATTERN);

/** Parses API_KEYS; throws with every problem named. */
export function parseApiKeys(spec: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const problems: string[] = [];
  spec
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean)
    .forEach((entry, i) => {
      const [hex = '', accounts] = entry.split(':', 2) as [string, string | undefined];
      if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
        problems.push(`entry ${i + 1}: ${JSON.stringify(hex.slice(0, 12))}... is not a SHA-256 digest in hex (64 digits)`);
        return;
      }
      const key: ApiKey = { digest: Buffer.from(hex, 'hex'), label: hex.slice(0, 8).toLowerCase() };
      if (accounts !== undefined && accounts.trim() !== '*') {
        const list = accounts.split('|').map((a) => a.trim());
        const bad = list.filter((a) => !ACCOUNT.test(a));
        if (bad.length > 0) problems.push(`entry ${i + 1}: invalid account ids ${JSON.stringify(bad)}`);
        key.accounts = new Set(list);
      }
      keys.push(key);
    });
  if (keys.length === 0 && problems.length === 0) problems.push('no key in API_KEYS');
  if (problems.length > 0) throw new Error(`API_KEYS: ${problems.join('; ')}`);
  return keys;
}

export function digestOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKey;
  }
  interface FastifyContextConfig {
    /** Reachable without a key. */
    public?: boolean;
  }
}

export class ApiKeyAuth {
  constructor(private readonly keys: readonly ApiKey[]) {}

  /** The key an Authorization header presents, if it is one of ours. */
  authenticate(authorization: string | undefined): ApiKey | undefined {
    const m = authorization === undefined ? null : /^Bearer +([\x21-\x7e]{1,512})$/i.exec(authorization.trim());
    if (!m) return undefined;
    const digest = digestOf(m[1]!);
    let found: ApiKey | undefined;
    for (const k of this.keys) {
      // No early exit: every digest is compared, whichever matches.
      if (timingSafeEqual(digest, k.digest) && !found) found = k;
    }
    return found;
  }

  static mayAccess(request: FastifyRequest, accountId: string): boolean {
    const accounts = request.apiKey?.accounts;
    return accounts === undefined || accounts.has(accountId);
  }

  /** Whether the caller may act on every account: no keys configured, or a key not limited to some. */
  static mayAccessEvery(request: FastifyRequest): boolean {
    return request.apiKey?.accounts === undefined;
  }

  /**
   * 401 before anything is parsed, for a missing or unknown key; 403 once the
   * route's input is validated, for an account the key is not allowed.
   */
  install(app: FastifyInstance): void {
    app.decorateRequest('apiKey', undefined);
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.public || isDocs(request.url)) return;
      const key = this.authenticate(request.headers.authorization);
      // api/problem.ts adds the WWW-Authenticate challenge to both.
      if (!key) throw createError(request.headers.authorization === undefined ? TELLER_ERR_AUTH_MISSING : TELLER_ERR_AUTH_INVALID);
      request.apiKey = key;
    });
    app.addHook('preHandler', async (request) => {
      const key = request.apiKey;
      if (!key?.accounts) return;
      const accountId = (request.params as { accountId?: unknown } | undefined)?.accountId ?? (request.body as { accountId?: unknown } | undefined)?.accountId;
      if (typeof accountId === 'string' && !key.accounts.has(accountId)) {
        throw createError(TELLER_ERR_FORBIDDEN, { accountId });
      }
    });
  }
}

function isDocs(url: string): boolean {
  return url === '/docs' || url.startsWith('/docs/') || url.startsWith('/docs?');
}

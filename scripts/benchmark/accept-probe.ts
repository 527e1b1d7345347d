// Whether the stack has the accept path yet: POST /v1/accounts/:id/deposits
// with `Prefer: respond-async`. The OpenAPI document lists it once it exists;
// without one, an invalid body tells: a 404 means no such route, anything
// other 4xx (400) means the route is there and refused the body, changing nothing.
export type AcceptProbe = { present: true; via: string } | { present: false; reason: string };

/** Decides from what the stack answered (pure, for the tests). */
export function judgeAcceptProbe(openapi: { status: number; body?: unknown }, post: { status: number } | undefined): AcceptProbe {
  if (openapi.status === 200 && typeof openapi.body === 'object' && openapi.body !== null) {
    const paths = (openapi.body as { paths?: Record<string, Record<string, unknown>> }).paths ?? {};
    const route = Object.entries(paths).find(([p]) => /^\/v1\/accounts\/(\{[^}]+\}|:[^/]+)\/deposits$/.test(p));
    if (route && route[1].post) return { present: true, via: `GET /openapi.json lists POST ${route[0]}` };
    if (Object.keys(paths).length > 0) return { present: false, reason: 'GET /openapi.json does not list POST /v1/accounts/{accountId}/deposits' };
  }
  if (post === undefined) return { present: false, reason: 'the stack did not answer the probe' };
  if (post.status === 404) return { present: false, reason: 'POST /v1/accounts/:accountId/deposits answers 404: the route does not exist yet' };
  // Only a validation answer shows a route that exists; a 5xx (NGINX without replicas, Kafka down) tells nothing.
  if (post.status < 400 || post.status >= 500) return { present: false, reason: `the probe was answered ${post.status}: cannot tell whether the route exists` };
  return { present: true, via: `POST /v1/accounts/:accountId/deposits with an invalid body answered ${post.status}` };
}

export async function probeAccept(url: string): Promise<AcceptProbe> {
  let openapi: { status: number; body?: unknown } = { status: 0 };
  try {
    const res = await fetch(`${url}/openapi.json`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    openapi = { status: res.status, body };
  } catch {
    // judged from the POST alone
  }
  let post: { status: number } | undefined;
  try {
    // An empty object fails validation (no id, no amount): nothing is submitted.
    const res = await fetch(`${url}/v1/accounts/bench-probe/deposits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: '{}',
      signal: AbortSignal.timeout(5000),
    });
    await res.arrayBuffer();
    post = { status: res.status };
  } catch {
    post = undefined;
  }
  return judgeAcceptProbe(openapi, post);
}

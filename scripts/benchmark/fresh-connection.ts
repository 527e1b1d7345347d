// One TCP connection per call with autocannon, the way ApacheBench sends
// requests without -k.
//
// Why not autocannon's own options: `reconnectRate: 1` does reconnect after
// every response, but autocannon 8 returns from its response handler before
// it records the response (lib/httpClient.js, kOnMessageComplete), so no
// call would ever be counted; and a `Connection: close` header alone makes
// the client write its next request into the socket the server is closing,
// which desynchronises its queue of requests in flight (latencies measured
// from the wrong request, calls lost). Why not `ab` itself: it sends one
// body file for every call of a run, so each call after the first would be
// a replay of the same transaction id: the idempotency path, not the flow.
//
// So the client is patched through autocannon's `setupClient` hook: after a
// response has been recorded, the next call goes out on a new connection
// (the old socket is destroyed, as ab closes it), and each request says
// `Connection: close` so NGINX treats it as the last on its connection, as
// it does ab's HTTP/1.0 requests. The latency of a call includes its TCP
// connect, as ab's does.
import type { Client } from 'autocannon';

interface ClientInternals {
  _connect(): void;
  _doRequest(): void;
  _resetConnection(): void;
}

export function freshConnectionPerRequest(client: Client): void {
  const c = client as unknown as ClientInternals;
  const connect = c._connect.bind(c);
  const doRequest = c._doRequest.bind(c);
  // True from a new connection until its one request has been written.
  let fresh = false;
  c._connect = () => {
    fresh = true;
    connect();
  };
  c._doRequest = () => {
    if (fresh) {
      fresh = false;
      doRequest();
    } else {
      // The previous call on this connection has been answered and recorded: start over on a new one.
      c._resetConnection();
    }
  };
}

export const CONNECTION_CLOSE = { connection: 'close' } as const;

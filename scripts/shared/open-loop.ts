// An open-loop load: calls sent on a fixed schedule, `rate` a second, whatever
// the answers, over at most `connections` keep-alive connections.
//
// Why not autocannon's `overallRate`: it is a cap on a closed loop. autocannon
// gives each connection rate / connections calls a second
// (lib/run.js, distributeNums), and a connection sends its next call only when
// the previous one is answered (lib/httpClient.js, _doRequest from the
// response handler; pipelining 1), pausing until the next second once it has
// sent its share. So an answer that takes longer than connections / rate
// seconds lowers the load offered, just when the target is slowest: the
// coordinated omission an overload test must not have. (It also lowers the
// connections to the rate when the rate is lower.) Here the schedule decides
// when a call goes out; a call due while every connection is still waiting
// for an answer is not sent and is counted as such (`unsent`), so the client
// never queues calls of its own and never opens more than `connections`.
//
// Node's http client costs more CPU a call than autocannon's (about 50 us
// against 32 on the development machine), which is why each step reports the
// rate it actually sent and how late against the schedule.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface OpenLoopCall {
  path: string;
  body: string;
}

export interface OpenLoopOptions {
  url: string;
  connections: number;
  headers: Record<string, string>;
  /** No answer within this long is a timeout; the call's connection is dropped. */
  timeoutMs: number;
}

/**
 * Told of every call: sent (and how late), not sent, answered, or failed
 * without an answer. An answer comes with its 503's problem type and its
 * Retry-After header, if any: a refusal is meant to say when to retry.
 */
export interface CallListener<C> {
  sent(lagMs: number): void;
  unsent(): void;
  answered(call: C, status: number, latencyMs: number, problemType: string | undefined, retryAfter: string | undefined): void;
  failed(call: C, timeout: boolean): void;
}

/** The schedule is kept in ticks this long: the calls due since the last tick go out together. */
const TICK_MS = 5;

/** The `type` of a problem+json body, if it is one. */
export function problemTypeOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { type?: unknown };
    return typeof parsed.type === 'string' ? parsed.type : undefined;
  } catch {
    return undefined;
  }
}

export class OpenLoop<C extends OpenLoopCall> {
  private busy = 0;
  private readonly agent: http.Agent;
  private readonly target: URL;
  private readonly idle = new Set<() => void>();

  constructor(private readonly o: OpenLoopOptions) {
    this.target = new URL(o.url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: o.connections, maxFreeSockets: o.connections });
  }

  /** Calls sent and not answered yet. */
  get inFlight(): number {
    return this.busy;
  }

  /**
   * Sends `rate` calls a second for `seconds`, each taken from `next` when it
   * goes out. Resolves once the schedule is over and every call sent has its
   * answer or its timeout.
   */
  async run(rate: number, seconds: number, next: () => C, listener: CallListener<C>): Promise<void> {
    const start = performance.now();
    const total = Math.round(rate * seconds);
    let scheduled = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
        for (; scheduled < due; scheduled++) {
          if (this.busy >= this.o.connections) listener.unsent();
          else this.send(next(), performance.now() - (start + (scheduled / rate) * 1000), listener);
        }
        if (scheduled >= total) resolve();
        else setTimeout(tick, TICK_MS);
      };
      tick();
    });
    await this.drained();
  }

  /** Closes the kept connections. */
  close(): void {
    this.agent.destroy();
  }

  private drained(): Promise<void> {
    return this.busy === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.add(resolve));
  }

  private send(call: C, lagMs: number, listener: CallListener<C>): void {
    this.busy++;
    listener.sent(lagMs);
    const startedAt = performance.now();
    let over = false;
    const finish = (report: () => void) => {
      if (over) return;
      over = true;
      this.busy--;
      report();
      if (this.busy === 0) {
        for (const wake of this.idle) wake();
        this.idle.clear();
      }
    };
    const req = http.request(
      {
        hostname: this.target.hostname,
        port: Number(this.target.port) || 80,
        path: call.path,
        method: 'POST',
        agent: this.agent,
        headers: { ...this.o.headers, 'content-length': Buffer.byteLength(call.body) },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        // Only a 503's body is read: its problem type tells a refusal from a failure.
        let body = '';
        if (status === 503) {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
        } else res.resume();
        // Node has parsed the headers already; a duplicate Retry-After is dropped, so this is one string or none.
        const retryAfter = res.headers['retry-after'];
        res.on('end', () => finish(() => listener.answered(call, status, performance.now() - startedAt, status === 503 ? problemTypeOf(body) : undefined, retryAfter)));
        res.on('close', () => {
          if (!res.complete) finish(() => listener.failed(call, false));
        });
      },
    );
    req.setTimeout(this.o.timeoutMs, () => {
      finish(() => listener.failed(call, true));
      req.destroy();
    });
    req.on('error', () => finish(() => listener.failed(call, false)));
    req.end(call.body);
  }
}

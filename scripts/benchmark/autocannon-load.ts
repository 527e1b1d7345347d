// One load run with autocannon used as a library: `connections` clients
// through NGINX, each sending the flow's next call as soon as the previous
// one is answered (no pipelining), for a warm-up and then the measured window.
import autocannon from 'autocannon';
import { AckLog } from './ack-log.js';
import { Flow, isAcknowledged, type FlowTx } from './contract-flow.js';
import { CONNECTION_CLOSE, freshConnectionPerRequest } from './fresh-connection.js';
import { Recorder, type LoadFigures } from './load-recorder.js';

/** How a flow's call becomes an HTTP request. */
export interface Shape {
  name: string;
  path(tx: FlowTx): string;
  body(tx: FlowTx): string;
  headers: Record<string, string>;
}

/** The compatibility contract: POST /transaction. */
export const contractShape: Shape = {
  name: 'POST /transaction',
  path: () => '/transaction',
  body: (tx) => JSON.stringify({ id: tx.id, type: tx.type, amount: tx.amount, accountId: tx.accountId, timestamp: Date.now() }),
  headers: { 'content-type': 'application/json' },
};

/** The resource API's deposit with `Prefer: respond-async` (202 once Kafka has it). */
export const acceptShape: Shape = {
  name: 'POST /v1/accounts/:id/deposits, Prefer: respond-async',
  path: (tx) => `/v1/accounts/${encodeURIComponent(tx.accountId)}/deposits`,
  body: (tx) => JSON.stringify({ id: tx.id, amount: tx.amount }),
  headers: { 'content-type': 'application/json', prefer: 'respond-async' },
};

/** The resource API's transfer between two accounts, waiting for both legs. */
export const transferShape: Shape = {
  name: 'POST /v1/transfers',
  path: () => '/v1/transfers',
  body: (tx) => JSON.stringify({ id: tx.id, from: tx.accountId, to: tx.to, amount: tx.amount }),
  headers: { 'content-type': 'application/json' },
};

export interface LoadOptions {
  url: string;
  connections: number;
  warmupS: number;
  durationS: number;
  keepAlive: boolean;
  flow: Flow;
  shape: Shape;
  acked?: AckLog;
  /** No answer within this long is a timeout (autocannon's unit: seconds). */
  timeoutS?: number;
  /** Calls a second at most, over all the connections (autocannon's overallRate); none by default. */
  overallRate?: number;
  /** Told every answer's status as it arrives (the soak counts accepted calls a second). */
  onAnswer?: (status: number) => void;
  /** Called when the measured window opens and when it closes (CPU samples, lag sampling). */
  onWindowOpen?: () => void;
  onWindowClose?: () => void;
  /** Called once a second with the seconds elapsed and the calls answered so far. */
  onTick?: (elapsedS: number, answered: number) => void;
}

export interface LoadRun {
  figures: LoadFigures;
  recorder: Recorder;
  startedAt: number;
  windowOpenedAt: number;
  /** Stops the run before its duration is over (its window closes then). */
  stop(): void;
  done: Promise<LoadFigures>;
}

/** Starts a run; `done` resolves with its figures once it is over. */
/** The autocannon run of `o`: each request takes the flow's next call, each answer goes back to it. */
function startAutocannon(o: LoadOptions, totalMs: number): autocannon.Instance {
  const headers = o.keepAlive ? o.shape.headers : { ...o.shape.headers, ...CONNECTION_CLOSE };
  return autocannon(
    {
      url: o.url,
      connections: o.connections,
      pipelining: 1,
      // autocannon ends on a whole second; the window is closed precisely by the recorder.
      duration: Math.ceil(totalMs / 1000),
      timeout: o.timeoutS ?? 10,
      ...(o.overallRate ? { overallRate: o.overallRate } : {}),
      headers,
      setupClient: o.keepAlive ? undefined : freshConnectionPerRequest,
      requests: [
        {
          method: 'POST',
          setupRequest: (req, context) => {
            const tx = o.flow.next();
            (context as { tx?: FlowTx }).tx = tx;
            return { ...req, method: 'POST', path: o.shape.path(tx), body: o.shape.body(tx) };
          },
          onResponse: (status, _body, context) => {
            const tx = (context as { tx?: FlowTx }).tx;
            if (!tx) return;
            o.flow.answered(tx, status);
            if (o.acked && isAcknowledged(status)) o.acked.add(tx.id, tx.accountId);
            o.onAnswer?.(status);
          },
        },
      ],
    },
    () => undefined,
  );
}

export function startLoad(o: LoadOptions): Omit<LoadRun, 'figures'> {
  const startedAt = Date.now();
  const warmupMs = o.warmupS * 1000;
  const totalMs = warmupMs + o.durationS * 1000;
  const recorder = new Recorder(startedAt, warmupMs);
  recorder.close(startedAt + totalMs);
  const instance = startAutocannon(o, totalMs);
  instance.on('response', (_client, status, _bytes, latency) => recorder.response(Date.now(), status, latency));
  instance.on('reqError', (err: Error) => recorder.error(Date.now(), /timed out/.test(String(err?.message))));

  let windowOpenedAt = startedAt + warmupMs;
  const opening = setTimeout(() => {
    windowOpenedAt = Date.now();
    o.onWindowOpen?.();
  }, warmupMs);
  const ticker = setInterval(() => o.onTick?.((Date.now() - startedAt) / 1000, recorder.answered), 1000);
  let closed = false;
  const closeWindow = () => {
    if (closed) return;
    closed = true;
    recorder.close(Date.now());
    o.onWindowClose?.();
  };
  const closing = setTimeout(closeWindow, totalMs);

  const done = new Promise<LoadFigures>((resolve) => {
    instance.on('done', () => {
      clearTimeout(opening);
      clearTimeout(closing);
      clearInterval(ticker);
      closeWindow();
      o.acked?.flush();
      resolve(recorder.figures(Date.now()));
    });
  });
  return {
    recorder,
    startedAt,
    get windowOpenedAt() {
      return windowOpenedAt;
    },
    stop: () => {
      closeWindow();
      instance.stop();
    },
    done,
  };
}

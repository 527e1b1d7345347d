// Admission control of the write routes. A replica takes at most
// MAX_CALLS_IN_FLIGHT writes at once, and none while its producer's queue is
// past its high-water mark: past either, a write is refused as soon as its
// headers are read, 503 `overloaded` with Retry-After: 1. Its body is not
// parsed, its id not claimed, nothing produced, so a retry with the same id
// is safe. Reads, health, metrics and the documents are never refused here:
// they produce nothing and wait for no decision.
//
// What it bounds: a call's wait for its decision (api/waiter.ts) is
// registered and settled inside its handler, and so is its message in the
// producer's queue until Kafka confirms it; a handler runs only while its
// call holds a slot. So the waiters of a replica number at most twice
// MAX_CALLS_IN_FLIGHT (a transfer waits for its debit and its credit, every
// other call for one decision), and the queue holds at most one message per
// admitted call plus the cancels of timed-out withdrawal requests, which
// are published outside any call and are never refused here.
//
// Registered like Fastify's own plugins (fastify-plugin): its hooks belong to
// the instance that registers it, so it must come before the routes.
import type { FastifyReply, FastifyRequest, onRequestHookHandler, RouteHandlerMethod, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { createError, TELLER_ERR_OVERLOADED } from '../common/errors.js';
import { sendError } from './problem.js';

export type OverloadReason = 'calls_in_flight' | 'producer_queue';

/** The methods of the routes that write: each such call produces a message, and most wait for its decision. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The share of PRODUCER_QUEUE_MAX past which calls are refused before they
 * are read. The rest is room for the calls already admitted and on their way
 * to the queue, and for the cancels of timed-out withdrawal requests, which
 * release holds and are refused only at the queue's hard limit.
 */
const HIGH_WATER_SHARE = 0.8;

export function producerHighWater(queueMax: number): number {
  return Math.max(1, Math.floor(queueMax * HIGH_WATER_SHARE));
}

export interface AdmissionOptions {
  maxCallsInFlight: number;
  /** Messages in the producer's queue now (api/main.ts: the batcher's stats). */
  producerQueued: () => number;
  producerHighWater: number;
  /** Told of every refusal (metrics). */
  onRefused?: (reason: OverloadReason) => void;
}

/** The count of write calls in flight in one replica, and whether one more may come in. */
export class Admission {
  private inFlight = 0;

  constructor(readonly options: AdmissionOptions) {}

  /** Write calls admitted and not yet over: handlers running, or calls being read before their handler. */
  get callsInFlight(): number {
    return this.inFlight;
  }

  /** Takes a slot for a call, or says why it is refused. */
  admit(): OverloadReason | undefined {
    if (this.inFlight >= this.options.maxCallsInFlight) return 'calls_in_flight';
    if (this.options.producerQueued() >= this.options.producerHighWater) return 'producer_queue';
    this.inFlight++;
    return undefined;
  }

  release(): void {
    this.inFlight--;
  }
}

/**
 * One admitted call's slot. It is given back once, when the handler ends, or
 * when the connection closes before the handler started (a body that was
 * invalid or never arrived): a handler that started keeps its slot until it
 * ends, even when its client has gone, since its wait and its message are
 * still there.
 */
class Slot {
  private state: 'admitted' | 'running' | 'done' = 'admitted';

  constructor(private readonly admission: Admission) {}

  /** The handler starts; false when the connection had closed before, and the slot with it. */
  start(): boolean {
    if (this.state !== 'admitted') return false;
    this.state = 'running';
    return true;
  }

  /** The response's connection is done with (answered, or closed by the client). */
  closed(): void {
    if (this.state === 'admitted') this.end();
  }

  end(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.admission.release();
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on write routes once the call is admitted (api/admission.ts). */
    admissionSlot?: Slot;
  }
}

function isWrite(route: RouteOptions): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods.some((m) => WRITE_METHODS.has(m.toUpperCase()));
}

function hooksOf(hooks: RouteOptions['onRequest']): onRequestHookHandler[] {
  if (hooks === undefined) return [];
  return (Array.isArray(hooks) ? hooks : [hooks]) as onRequestHookHandler[];
}

function admitHook(admission: Admission): onRequestHookHandler {
  return async function admit(request: FastifyRequest, reply: FastifyReply) {
    const refusal = admission.admit();
    if (refusal) {
      admission.options.onRefused?.(refusal);
      return sendError(reply, createError(TELLER_ERR_OVERLOADED, { reason: refusal }));
    }
    const slot = new Slot(admission);
    request.admissionSlot = slot;
    reply.raw.once('close', () => slot.closed());
    return undefined;
  };
}

/** The route's handler, run under the call's slot and giving it back when it ends. */
function underSlot(handler: RouteHandlerMethod): RouteHandlerMethod {
  return async function admitted(this: ThisParameterType<RouteHandlerMethod>, request, reply) {
    const slot = request.admissionSlot;
    if (slot && !slot.start()) {
      // The client left before its call was taken: nothing is claimed or produced for it.
      reply.hijack();
      return undefined;
    }
    try {
      return await handler.call(this, request, reply);
    } finally {
      slot?.end();
    }
  };
}

export const admissionControl = fp<{ admission: Admission }>(
  async (app, { admission }) => {
    app.decorateRequest('admissionSlot', undefined);
    app.addHook('onRoute', (route) => {
      if (!isWrite(route)) return;
      // After the instance's own onRequest hooks (API keys): a call without a valid key is a 401, whatever the load.
      route.onRequest = [...hooksOf(route.onRequest), admitHook(admission)];
      route.handler = underSlot(route.handler);
    });
  },
  { fastify: '5.x', name: 'teller-admission' },
);

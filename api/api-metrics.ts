// Prometheus metrics of one api replica, at GET /metrics: requests by route
// and status with latency histograms, the producer's batches, queue and
// refusals, write calls in flight and refused for load, and what became of
// the calls (decided by status, accepted, timed out). Each
// replica reports its own; the consumers serve theirs on their own ports.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatcherStats } from '../producer/batcher.js';
import type { OverloadReason } from './admission.js';
import type { SubmitResult, TxRequest } from './submit.js';

export interface ApiMetricsSources {
  replicaId: string;
  producer: () => BatcherStats;
  /** Calls waiting for their outcome now. */
  waiting: () => number;
  /** Write calls admitted and not over yet (api/admission.ts); absent: no admission control. */
  callsInFlight?: () => number;
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status'>;
  private readonly batchSize: Histogram;
  private readonly batchSeconds: Histogram;
  private readonly results: Counter<'type' | 'result' | 'status'>;
  private readonly refusals: Counter<'reason'>;

  constructor(s: ApiMetricsSources) {
    const r = this.registry;
    r.setDefaultLabels({ replica: s.replicaId });
    collectDefaultMetrics({ register: r });
    this.requests = new Histogram({
      name: 'teller_http_request_duration_seconds',
      help: 'HTTP requests by route template and status; _count is the request count',
      labelNames: ['method', 'route', 'status'],
      // Around the 3 s decision deadline and the 100 ms p99 target.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
      registers: [r],
    });
    this.batchSize = new Histogram({
      name: 'teller_producer_batch_size',
      help: 'Messages per Kafka send (acknowledged batches)',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers: [r],
    });
    this.batchSeconds = new Histogram({
      name: 'teller_producer_batch_seconds',
      help: 'Duration of a Kafka send, acks=all',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
      registers: [r],
    });
    new Gauge({
      name: 'teller_producer_queue_depth',
      help: 'Messages waiting for a Kafka send',
      registers: [r],
      collect() {
        this.set(s.producer().queued);
      },
    });
    new Gauge({
      name: 'teller_producer_sends_in_flight',
      help: 'Kafka sends under way',
      registers: [r],
      collect() {
        this.set(s.producer().inFlight);
      },
    });
    new Gauge({
      name: 'teller_producer_failing',
      help: '1 while recent Kafka sends failed and new calls are refused (503)',
      registers: [r],
      collect() {
        this.set(s.producer().failing ? 1 : 0);
      },
    });
    new Gauge({
      name: 'teller_calls_waiting',
      help: 'Calls waiting for the ledger decision',
      registers: [r],
      collect() {
        this.set(s.waiting());
      },
    });
    new Gauge({
      name: 'teller_calls_in_flight',
      help: 'Write calls admitted and not answered yet (at most MAX_CALLS_IN_FLIGHT)',
      registers: [r],
      collect() {
        this.set(s.callsInFlight?.() ?? 0);
      },
    });
    this.refusals = new Counter({
      name: 'teller_calls_refused_total',
      help: 'Write calls refused unread, 503 overloaded, by reason: calls_in_flight (MAX_CALLS_IN_FLIGHT reached) or producer_queue (past its high-water mark)',
      labelNames: ['reason'],
      registers: [r],
    });
    new Counter({
      name: 'teller_producer_refused_total',
      help: 'Messages the producer refused unsent, by reason: queue_full (PRODUCER_QUEUE_MAX), kafka_unavailable (recent sends failed), stopped, queue_timeout (PRODUCER_SEND_TIMEOUT_MS passed while queued)',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        // The batcher keeps the counts; a scrape copies them.
        this.reset();
        for (const [reason, count] of Object.entries(s.producer().refused)) this.inc({ reason }, count);
      },
    });
    this.results = new Counter({
      name: 'teller_outcomes_total',
      help: 'Calls taken, by transaction type and result: decided (with the outcome status), accepted (202, decision to follow) or timed_out (402)',
      labelNames: ['type', 'result', 'status'],
      registers: [r],
    });
  }

  batch(size: number, ms: number): void {
    this.batchSize.observe(size);
    this.batchSeconds.observe(ms / 1000);
  }

  refused(reason: OverloadReason): void {
    this.refusals.inc({ reason });
  }

  result(tx: TxRequest, result: SubmitResult): void {
    const status = result.kind === 'decided' ? (result.outcome.replayed ? 'replayed' : result.outcome.status) : result.kind === 'accepted' ? 'pending' : 'denied';
    this.results.inc({ type: tx.type, result: result.kind, status });
  }

  /** Times every request by its route template (never the raw URL: ids would explode the label set). */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.requests.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
    app.get(
      '/metrics',
      {
        config: { public: true },
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics of the replica that answers',
          security: [],
          response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      async (_request, reply) => {
        reply.type(this.registry.contentType);
        return this.registry.metrics();
      },
    );
  }
}

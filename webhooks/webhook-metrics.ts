// Prometheus metrics of the webhook dispatcher, served on a port of its own
// (WEBHOOKS_METRICS_PORT), as a consumer serves its own: deliveries by
// endpoint and outcome, failed attempts by reason, events waiting for a
// retry, dead letters stored, lag per endpoint, and the retry settings (which
// say what a test or an operator may expect of the retries).
import type { Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptFailure, DeliveryObserver } from './batch-delivery.js';
import { closeMetricsServer, serveMetrics } from '../common/metrics-server.js';

/** How an event ended for an endpoint; `redelivered` and `redelivery_failed` are dead letters delivered again, or not. */
export type DeliveryOutcome = 'delivered' | 'dead_lettered' | 'skipped' | 'redelivered' | 'redelivery_failed';

export interface MetricsSettings {
  retryHorizonSeconds: number;
  timeoutMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
}

export class WebhookMetrics {
  readonly registry = new Registry();
  private readonly outcomes: Counter<'endpoint' | 'result'>;
  private readonly failures: Counter<'endpoint' | 'reason'>;
  private readonly waiting: Gauge<'endpoint'>;
  private readonly deadLetters: Gauge<'endpoint'>;
  private readonly lag: Gauge<'endpoint'>;
  private readonly endpoints: Gauge;
  private readonly attemptSeconds: Histogram;
  private server: Server | undefined;

  constructor(settings: MetricsSettings) {
    const r = this.registry;
    r.setDefaultLabels({ service: 'webhooks' });
    collectDefaultMetrics({ register: r });
    this.outcomes = new Counter({
      name: 'teller_webhooks_deliveries_total',
      help: 'Events an endpoint is done with, by outcome: delivered, dead_lettered, skipped (its filter), redelivered and redelivery_failed (dead letters posted again)',
      labelNames: ['endpoint', 'result'],
      registers: [r],
    });
    this.failures = new Counter({
      name: 'teller_webhooks_failed_attempts_total',
      help: 'Delivery attempts that failed, by reason: status (not 2xx), timeout, network (no connection)',
      labelNames: ['endpoint', 'reason'],
      registers: [r],
    });
    this.waiting = new Gauge({ name: 'teller_webhooks_retries_waiting', help: 'Events waiting now for their next attempt after a failure', labelNames: ['endpoint'], registers: [r] });
    this.deadLetters = new Gauge({ name: 'teller_webhooks_dead_letters', help: 'Dead letters stored for the endpoint, counted every 30 s', labelNames: ['endpoint'], registers: [r] });
    this.lag = new Gauge({
      name: 'teller_webhooks_lag_events',
      help: "Events on the topic past what the endpoint has processed (end offset minus its processed offset, summed over partitions), as last read",
      labelNames: ['endpoint'],
      registers: [r],
    });
    this.endpoints = new Gauge({ name: 'teller_webhooks_endpoints', help: 'Endpoints whose consumer runs in this dispatcher', registers: [r] });
    this.attemptSeconds = new Histogram({
      name: 'teller_webhooks_attempt_seconds',
      help: 'Duration of a delivery attempt, until the answer or the timeout',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [r],
    });
    const setting = (name: string, help: string, value: number) => new Gauge({ name, help, registers: [r] }).set(value);
    setting('teller_webhooks_retry_horizon_seconds', 'WEBHOOK_RETRY_HORIZON_SECONDS: how long an account may keep failing before its event is dead-lettered', settings.retryHorizonSeconds);
    setting('teller_webhooks_timeout_seconds', 'WEBHOOK_TIMEOUT_MS, in seconds: one attempt without an answer for this long fails', settings.timeoutMs / 1000);
    setting('teller_webhooks_backoff_base_seconds', 'WEBHOOK_BACKOFF_BASE_MS, in seconds', settings.backoffBaseMs / 1000);
    setting('teller_webhooks_backoff_cap_seconds', 'WEBHOOK_BACKOFF_CAP_MS, in seconds', settings.backoffCapMs / 1000);
  }

  /** The observer of one endpoint's deliveries (webhooks/batch-delivery.ts). */
  observer(endpoint: string): DeliveryObserver {
    return {
      delivered: () => this.outcome(endpoint, 'delivered'),
      deadLettered: () => this.outcome(endpoint, 'dead_lettered'),
      skipped: () => this.outcome(endpoint, 'skipped'),
      attemptFailed: (reason: AttemptFailure) => this.failures.inc({ endpoint, reason }),
      waiting: (change) => this.waiting.inc({ endpoint }, change),
    };
  }

  outcome(endpoint: string, result: DeliveryOutcome): void {
    this.outcomes.inc({ endpoint, result });
  }

  attempted(ms: number): void {
    this.attemptSeconds.observe(ms / 1000);
  }

  endpointsRunning(count: number): void {
    this.endpoints.set(count);
  }

  lagOf(endpoint: string, events: number): void {
    this.lag.set({ endpoint }, events);
  }

  deadLettersOf(endpoint: string, count: number): void {
    this.deadLetters.set({ endpoint }, count);
  }

  /** A deleted endpoint's series go with it. */
  forget(endpoint: string): void {
    for (const gauge of [this.waiting, this.deadLetters, this.lag]) gauge.remove({ endpoint });
  }

  /** Serves GET /metrics on `port`. */
  async listen(port: number, host: string): Promise<void> {
    this.server = await serveMetrics(this.registry, port, host);
  }

  close(): Promise<void> {
    return closeMetricsServer(this.server);
  }

}

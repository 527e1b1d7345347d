// Readiness of the dependencies, probed in the background once a second so
// that /readyz is cheap and a slow dependency cannot pile up probes.
import type { Logger } from 'pino';

export type Check = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

export class ReadinessProbe {
  private report: ReadinessReport;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly checks: Record<string, Check>,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    private readonly timeoutMs = 2000,
  ) {
    this.report = { ready: false, checks: Object.fromEntries(Object.keys(checks).map((k) => [k, { ok: false, error: 'not probed yet' }])) };
  }

  start(): void {
    const loop = async () => {
      await this.probe();
      this.timer = setTimeout(loop, this.intervalMs);
      this.timer.unref();
    };
    void loop();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  get current(): ReadinessReport {
    return this.report;
  }

  async probe(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), this.timeoutMs);
          return [name, { ok: true }] as const;
        } catch (err) {
          return [name, { ok: false, error: (err as Error).message }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const ready = entries.every(([, c]) => c.ok);
    if (ready !== this.report.ready) this.log.info({ ready, checks }, 'readiness changed');
    this.report = { ready, checks };
    return this.report;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}

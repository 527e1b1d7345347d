// Inserts ledger documents, grouping the batches that every partition of this
// process decided in the last few ms into one insertMany({ordered: false}):
// small inserts cost the embedded server more CPU per document than large ones
// (docs/embedded-database.md). The
// answers are out before the insert, so a longer group delays only the
// offset commit after it, not a caller.
// Duplicates (a replay re-inserting what an earlier owner wrote) are expected
// and ignored; any other failure is retried with backoff until it succeeds or
// the writer stops, and the caller commits nothing until then.
import { MongoBulkWriteError, type Collection } from 'mongodb';
import type { Logger } from 'pino';
import { retry } from '../common/retry.js';
import type { LedgerDoc } from '../common/types.js';

const DUPLICATE_KEY = 11000;
/** The most documents one insertMany carries; a larger group is split. */
export const MAX_DOCS_PER_INSERT = 5000;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class WriterStoppedError extends Error {
  constructor() {
    super('ledger writer stopped before the insert succeeded');
    this.name = 'WriterStoppedError';
  }
}

export class LedgerWriter {
  private docs: LedgerDoc[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Called after each successful insert with the number of documents and ms taken. */
  onInsert: ((docs: number, ms: number) => void) | undefined;

  constructor(
    private readonly collection: Collection<LedgerDoc>,
    private readonly groupMs: number,
    private readonly log: Logger,
  ) {}

  private inFlight = 0;

  /** Documents handed in and not yet inserted: what the consumer may get ahead by. */
  get backlog(): number {
    return this.inFlight;
  }

  /** Resolves once `docs` are in the ledger (inserted now or before). Groups are inserted in order. */
  write(docs: LedgerDoc[]): Promise<void> {
    if (this.stopped) return Promise.reject(new WriterStoppedError());
    this.inFlight += docs.length;
    return new Promise<void>((resolve, reject) => {
      for (const d of docs) this.docs.push(d);
      this.waiters.push({ resolve, reject });
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        // One group at a time, so a slow database gets bigger groups rather than more of them.
        this.running = this.running.then(() => this.flush());
      }, this.groupMs);
    });
  }

  /** Waits for the inserts under way and the group being formed, then refuses more. */
  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.running = this.running.then(() => this.flush());
    }
    await this.running;
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    this.docs = [];
    this.inFlight = 0;
    for (const w of waiters) w.reject(new WriterStoppedError());
  }

  private async flush(): Promise<void> {
    const docs = this.docs;
    const waiters = this.waiters;
    this.docs = [];
    this.waiters = [];
    if (waiters.length === 0) return;
    const started = Date.now();
    try {
      for (let i = 0; i < docs.length; i += MAX_DOCS_PER_INSERT) await this.insertUntilDone(docs.slice(i, i + MAX_DOCS_PER_INSERT));
    } catch (err) {
      for (const w of waiters) w.reject(err as Error);
      return;
    } finally {
      this.inFlight -= docs.length;
    }
    this.onInsert?.(docs.length, Date.now() - started);
    for (const w of waiters) w.resolve();
  }

  /** Inserts `docs`, trying again until it succeeds; throws WriterStoppedError once the writer stops. */
  private async insertUntilDone(docs: LedgerDoc[]): Promise<void> {
    try {
      await retry(() => this.insertOnce(docs), {
        what: 'ledger insert',
        firstDelayMs: 100,
        maxDelayMs: 5000,
        stop: () => this.stopped,
        onFailure: ({ what, err, attempt, retryInMs }) =>
          this.log.warn({ what, err: (err as Error).message, docs: docs.length, attempt, retryInMs }, 'ledger insert failed; retrying'),
      });
    } catch (err) {
      // Only a stop ends the loop (with whatever the last try met): callers are told the writer stopped.
      if (this.stopped) throw new WriterStoppedError();
      throw err;
    }
  }

  /** Duplicates count as inserted: a replay re-inserts what an earlier owner wrote. */
  private async insertOnce(docs: LedgerDoc[]): Promise<void> {
    if (this.stopped) throw new WriterStoppedError();
    try {
      await this.collection.insertMany(docs, { ordered: false });
    } catch (err) {
      if (!onlyDuplicates(err)) throw err;
    }
  }
}

/**
 * True when every document that failed did so because it is already there.
 * With ordered: false the driver attempts every document and reports each
 * failure in writeErrors (one or many); a write concern error, or an error
 * with no write errors (network, timeout), means the insert must be retried.
 */
export function onlyDuplicates(err: unknown): boolean {
  if (!(err instanceof MongoBulkWriteError) || err.err) return false;
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  if (err.result.getWriteConcernError()) return false;
  return writeErrors.length > 0 && writeErrors.every((e) => e.code === DUPLICATE_KEY);
}

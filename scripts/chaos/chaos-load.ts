// A bounded mixed load through NGINX that keeps the client's books: deposits,
// withdrawal requests, a withdrawal settling every approval, and transfers
// between the accounts (over POST /v1/transfers). Each call is retried with
// the same id until it is acknowledged, as the contract allows.
import { retry } from '../../common/retry.js';
import { Books, type Answer, type CallType } from './client-books.js';

export interface LoadOptions {
  baseUrl: string;
  accounts: string[];
  workers: number;
  /** Stop starting new calls after this long. */
  durationMs: number;
  /** Give up retrying a call after this long (the report then counts it unresolved). */
  retryForMs: number;
  runId: string;
}

export interface LoadResult {
  books: Books;
  unresolved: { id: string; accountId: string }[];
  /** Times (ms since the epoch) of decided answers, for recovery times. */
  decidedAt: number[];
}

/** An answer that carries a decision of the ledger (a 402 with reason timeout is a call cancelled for want of one), for recovery times. */
function isDecided(answer: Answer | 'network'): boolean {
  return answer !== 'network' && (answer.status === 200 || answer.status === 201 || (answer.status === 402 && answer.reason !== 'timeout'));
}

async function send(baseUrl: string, path: string, body: object): Promise<Answer | 'network'> {
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: { status?: string; reason?: string } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // NGINX or a dying replica may answer something that is not JSON: the status tells enough.
    }
    return { status: res.status, outcome: parsed.status, reason: parsed.reason };
  } catch {
    return 'network';
  }
}

export class ChaosLoad {
  readonly books = new Books();
  private seq = 0;
  private stopAt = 0;
  private readonly unresolved: { id: string; accountId: string }[] = [];
  private readonly decidedAt: number[] = [];

  constructor(private readonly o: LoadOptions) {}

  async run(): Promise<LoadResult> {
    this.stopAt = Date.now() + this.o.durationMs;
    await Promise.all(Array.from({ length: this.o.workers }, (_, w) => this.worker(w)));
    await this.settleAll();
    return { books: this.books, unresolved: this.unresolved, decidedAt: this.decidedAt };
  }

  /** Ends the load early (new calls stop; calls under way still finish). */
  stop(): void {
    this.stopAt = 0;
  }

  private async worker(w: number): Promise<void> {
    while (Date.now() < this.stopAt) {
      const accountId = this.o.accounts[(this.seq + w) % this.o.accounts.length]!;
      const settle = this.books.nextToSettle(accountId);
      if (settle !== undefined) await this.call('withdraw', settle, accountId);
      else if (this.seq % 10 < 5) await this.call('deposit', 10 + (this.seq % 7), accountId);
      else if (this.seq % 10 < 8) await this.call('withdraw_request', 5 + (this.seq % 11), accountId);
      else await this.transfer(accountId, this.o.accounts[(this.seq + w + 1) % this.o.accounts.length]!, 3 + (this.seq % 13));
    }
  }

  /** After the load: every approved hold is settled, so no funds stay held. */
  private async settleAll(): Promise<void> {
    for (const accountId of this.o.accounts) {
      for (let amount = this.books.nextToSettle(accountId); amount !== undefined; amount = this.books.nextToSettle(accountId)) {
        await this.call('withdraw', amount, accountId);
      }
    }
  }

  /** One call, sent again with its id (after 50 ms, doubling up to 1 s) until acknowledged; unresolved once retryForMs has passed. */
  private async call(type: CallType, amount: number, accountId: string): Promise<void> {
    const id = `${this.o.runId}-${this.seq++}`;
    const body = { id, type, amount, accountId, timestamp: new Date().toISOString() };
    await this.untilAcknowledged(id, accountId, () => send(this.o.baseUrl, '/transaction', body), (answer) => this.books.record(id, accountId, type, amount, answer));
  }

  /** A transfer from `from` to `to`; its id is on `from`. */
  private async transfer(from: string, to: string, amount: number): Promise<void> {
    const id = `${this.o.runId}-${this.seq++}`;
    const body = { id, from, to, amount };
    await this.untilAcknowledged(id, from, () => send(this.o.baseUrl, '/v1/transfers', body), (answer) => this.books.record(id, from, 'transfer', amount, answer, to));
  }

  private async untilAcknowledged(id: string, accountId: string, attempt: () => Promise<Answer | 'network'>, record: (answer: Answer | 'network') => boolean): Promise<void> {
    const once = async () => {
      const answer = await attempt();
      if (isDecided(answer)) this.decidedAt.push(Date.now());
      if (!record(answer)) throw new Error(`${id}: not acknowledged`);
    };
    await retry(once, { what: `call ${id}`, firstDelayMs: 50, maxDelayMs: 1000, giveUpAfterMs: this.o.retryForMs }).catch(() => {
      this.unresolved.push({ id, accountId });
    });
  }
}

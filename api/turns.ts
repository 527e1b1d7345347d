// One piece of heavy work at a time per replica, the others waiting their
// turn, bounded twice: past `queueLimit` waiting calls a new one is refused at
// once, and a call that waits past its deadline is refused then. Reads of the
// ledger (api/ledger-reads.ts: statements, balances as of a time or a cut) and
// replays of decisions (api/explanations.ts) each take their turns in a queue
// of their own, so a burst of either cannot take every core from the ledger's
// own work.
import type { TellerError } from '../common/errors.js';

export interface TurnLimits {
  /** Calls waiting for their turn at most; past it a call is refused at once. */
  queueLimit: number;
  /** A call's whole budget, its wait and its work, in ms. */
  deadlineMs: number;
}

export class Turns {
  private busy = false;
  /** The calls waiting for their turn, oldest first: each one's wake-up. */
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly queueLimit: number,
    /** The error a call refused gets: the queue full, or its deadline passed while it waited. */
    private readonly refusal: (why: 'queue full' | 'waited past its deadline') => TellerError,
  ) {}

  /** Runs `work` in its turn; rejects with the refusal when the queue is full or `deadline` (ms since the epoch) passes first. */
  async run<T>(deadline: number, work: () => Promise<T>): Promise<T> {
    await this.turn(deadline);
    try {
      return await work();
    } finally {
      this.next();
    }
  }

  private turn(deadline: number): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    if (this.queue.length >= this.queueLimit) return Promise.reject(this.refusal('queue full'));
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(wake), 1);
        reject(this.refusal('waited past its deadline'));
      }, deadline - Date.now());
      this.queue.push(wake);
    });
  }

  private next(): void {
    const wake = this.queue.shift();
    if (wake) wake();
    else this.busy = false;
  }
}

// The log's clock for quiet partitions. Holds lapse by the partition's log
// clock, which moves only when a record arrives: a partition nobody writes to
// would hold expired funds forever. So every owner publishes a tick,
// `{v: 1, type: 'tick', receivedAt}`, to each partition it owns at a fixed
// interval. The tick is in the log like any other message, so a replay meets
// the same clock at the same offset and lapses the same holds: expiry stays a
// pure function of the log. While the partition's clock source is
// `receivedAt`, the tick's `receivedAt` (this consumer's clock) is what moves
// it; once the source is the broker's append time, the tick's `receivedAt`
// means nothing and its record's timestamp moves the clock, as any record's.
//
// Two owners ticking the same partition during a rebalance is harmless: a tick
// only moves the clock forward, and the clock never goes back. The ticker
// also publishes the clock markers (consumer/clock-switch.ts decides when).
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { encodeMessage } from '../common/message.js';
import type { ClockMessage, LogMessage, TickMessage } from '../common/types.js';
import { sendConfirmed } from '../common/confirmed-send.js';

export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = true;
  /** Called after each published round with the partitions ticked (metrics). */
  onTick: ((partitions: number[]) => void) | undefined;

  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly topic: string,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Ticks the partitions `owned()` returns at each interval, until stop(). */
  start(owned: () => number[]): void {
    this.stopped = false;
    const loop = () => {
      this.timer = setTimeout(() => {
        this.running = this.tick(owned()).finally(() => {
          if (!this.stopped) loop();
        });
      }, this.intervalMs);
      this.timer.unref();
    };
    loop();
  }

  /** Stops ticking and waits for a round under way, so the producer can be closed after it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round: a tick to each partition, in one send. A failed round is logged; the next one follows. */
  async tick(partitions: number[]): Promise<void> {
    const tick: TickMessage = { v: 1, type: 'tick', receivedAt: this.now() };
    if (await this.publish(tick, partitions, 'tick not published; holds of quiet partitions lapse at the next one')) this.onTick?.(partitions);
  }

  /** A clock marker to each partition, in one send; resolves to whether it was published. */
  markClock(partitions: number[]): Promise<boolean> {
    const marker: ClockMessage = { v: 1, type: 'clock', source: 'log-append-time', receivedAt: this.now() };
    return this.publish(marker, partitions, 'clock marker not published; the next round tries again');
  }

  /** Publishes `msg` to each of `partitions`; a failure is logged with `failure`. */
  private async publish(msg: LogMessage, partitions: number[], failure: string): Promise<boolean> {
    if (partitions.length === 0) return false;
    const value = encodeMessage(msg);
    try {
      await sendConfirmed(this.producer, { topic: this.topic, acks: -1, messages: partitions.map((partition) => ({ partition, key: null, value })) });
      return true;
    } catch (err) {
      this.log.warn({ err: (err as Error).message, partitions }, failure);
      return false;
    }
  }
}

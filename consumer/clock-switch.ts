// Moving the partitions this member owns to the broker's clock
// (docs/ledger-rules.md, The log clock). A partition's clock source is in its
// log: `receivedAt` until its first clock marker, the records' timestamps
// after it. A marker is only true once the topic stamps its records with the
// broker's append time, so an owner publishes one only after reading the
// topic's `message.timestamp.type` as `LogAppendTime` (`npm start` sets it,
// scripts/stack/kafka-topics.ts). On a topic that keeps the producers'
// times, no marker is published and the partitions stay on `receivedAt`.
import kafkajs, { type Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { oneAtATime } from '../common/one-at-a-time.js';
import type { PartitionOwners } from './partition-owners.js';

// kafkajs is CommonJS, and Node finds only some of its exports by name.
const { ConfigResourceTypes } = kafkajs;

export const TIMESTAMP_TYPE = 'message.timestamp.type';
export const LOG_APPEND_TIME = 'LogAppendTime';

/** How long a reading of the topic's timestamp type is trusted before it is read again. */
export const CONFIG_CHECK_INTERVAL_MS = 60_000;
/**
 * How long a partition is given to read the marker published to it before
 * it gets another. A second marker changes nothing, so this only spares the
 * log markers while an owner replays its way up to the first one.
 */
export const MARK_AGAIN_AFTER_MS = 60_000;

/** Whether the topic stamps its records with the broker's append time. */
export async function appendsWithLogAppendTime(admin: Pick<Admin, 'describeConfigs'>, topic: string): Promise<boolean> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [TIMESTAMP_TYPE] }],
  });
  const entry = resources[0]?.configEntries.find((e) => e.configName === TIMESTAMP_TYPE);
  return entry?.configValue === LOG_APPEND_TIME;
}

export interface ClockSwitchDeps {
  owners: Pick<PartitionOwners, 'entries' | 'isCurrent'>;
  admin: Pick<Admin, 'describeConfigs'>;
  /** Publishes a clock marker to each of `partitions` (consumer/ticker.ts); resolves to whether it did. */
  publish: (partitions: number[]) => Promise<boolean>;
  log: Logger;
  /** True once the consumer is stopping: no round starts. */
  stopping: () => boolean;
  now?: () => number;
}

export class ClockSwitch {
  private readonly now: () => number;
  private appendTime = false;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private warned = false;
  /** When each partition was last sent a marker. */
  private readonly markedAt = new Map<number, number>();

  constructor(
    private readonly deps: ClockSwitchDeps,
    private readonly topic: string,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** One round, one at a time: a marker to each owned partition still on `receivedAt`, once the topic allows. */
  readonly round = oneAtATime(async () => {
    if (this.deps.stopping()) return;
    const now = this.now();
    const due = (await this.partitionsOnReceivedAt()).filter((p) => now - (this.markedAt.get(p) ?? Number.NEGATIVE_INFINITY) >= MARK_AGAIN_AFTER_MS);
    if (due.length === 0 || !(await this.topicAppendsWithLogAppendTime(now))) return;
    if (await this.deps.publish(due)) {
      for (const p of due) this.markedAt.set(p, now);
      this.deps.log.info({ partitions: due }, "clock marker published: these partitions' clocks move to the broker's append time");
    }
  });

  private async partitionsOnReceivedAt(): Promise<number[]> {
    const out: number[] = [];
    for (const [partition, pending] of this.deps.owners.entries()) {
      const owner = await pending;
      if (this.deps.owners.isCurrent(partition, pending) && owner.ledger.clockSource === 'receivedAt') out.push(partition);
    }
    return out;
  }

  /** The topic's timestamp type, read again once the last reading is older than CONFIG_CHECK_INTERVAL_MS. */
  private async topicAppendsWithLogAppendTime(now: number): Promise<boolean> {
    if (now - this.checkedAt < CONFIG_CHECK_INTERVAL_MS) return this.appendTime;
    this.checkedAt = now;
    try {
      this.appendTime = await appendsWithLogAppendTime(this.deps.admin, this.topic);
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'could not read the topic config; will try again');
      this.appendTime = false;
    }
    if (!this.appendTime && !this.warned) {
      this.warned = true;
      this.deps.log.warn(
        { topic: this.topic },
        `${TIMESTAMP_TYPE} is not ${LOG_APPEND_TIME} (or could not be read): partition clocks stay on the api replicas' receivedAt, and one replica's clock jumping ahead moves them ahead for good`,
      );
    }
    return this.appendTime;
  }
}

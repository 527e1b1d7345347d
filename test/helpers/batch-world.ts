// A batch handler's world without a stack: kafkajs's batch payload and every
// component a batch reads from or writes to are in-memory fakes that record
// what the batch did, in order (the ledger it looks ids up in holds what its
// inserts put in once they finish); the owners and the ledger rules are the
// real ones.
import type { Filter } from 'mongodb';
import { pino } from 'pino';
import { eventOf, type LedgerEvent } from '../../common/events.js';
import { encodeMessage } from '../../common/message.js';
import type { AccountWrite } from '../../common/read-model.js';
import type { LedgerDoc, LogMessage, Outcome, TxMessage } from '../../common/types.js';
import type { DeadLetter, RawRecord } from '../../consumer/batch-decision.js';
import type { LedgerFinder } from '../../consumer/id-lookup.js';
import { BatchHandler, type BatchPayload } from '../../consumer/partition-batch.js';
import { PartitionOwners } from '../../consumer/partition-owners.js';
import type { PartitionSnapshot } from '../../consumer/partition.js';
import type { ReadModelAnswer } from '../../consumer/read-model-knowledge.js';
import type { ReadModelWriter } from '../../consumer/read-model-writer.js';
import { MemoryLedger } from './memory-ledger.js';
import { deposit } from './tx.js';

export const TOPIC = 'teller.tx';
export const DAY = 86_400_000;
export const log = pino({ level: 'silent' });
/** The owners' margin past a request's `answerBy` before they cancel it. */
export const LATE_CANCEL_MARGIN_MS = 1000;

/** Lets every settled promise run its callbacks. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

interface Deferred {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Records everything a batch does to the outside, in order. */
export class World {
  readonly events: string[] = [];
  readonly writes: { docs: LedgerDoc[]; done: Deferred }[] = [];
  readonly commits: [number, number][] = [];
  readonly seeks: [number, number][] = [];
  readonly readModelWrites: AccountWrite[][] = [];
  readonly deadLetters: DeadLetter[][] = [];
  /** Cancels the owners published, each with its partition. */
  /** What the batches minted and published (late cancels, transfer credits and returns), in order. */
  readonly minted: TxMessage[] = [];
  /** Every outcome announced, in order. */
  readonly outcomes: Outcome[] = [];
  readonly saved: { offset: number; base: number | undefined }[] = [];
  /** What the next read model writes do: answer what Redis holds, or fail. */
  readModelAnswer: ReadModelAnswer | Error = 'whole';
  deadLetterFailures = 0;
  mintedFailures = 0;
  /** Whether handlers publish events (EVENTS_ENABLED); off, the batches' steps are as before events. */
  eventsEnabled = false;
  /** The ledger events the batches published, in order, each copy (a batch published again counts again). */
  readonly ledgerEvents: LedgerEvent[] = [];
  eventFailures = 0;
  /** The ledger as the database holds it: what inserts have put in. */
  readonly db = new MemoryLedger();
  /** Every query a batch's lookup made. */
  readonly lookups: Filter<LedgerDoc>[] = [];
  lookupFailures = 0;
  /** The owners' wall clock. */
  now = 1_000_000;
  backlog = 0;
  stopping = false;
  /** The partitions' high watermark, for the upkeep. */
  high = 0;

  readonly owners = new PartitionOwners(
    { snapshots: { load: async () => undefined, assigned: () => undefined }, log },
    { idWindowMs: DAY, snapshotIntervalMs: 0 },
  );

  /** The batch handler; its read model writes go to `readModel` when given, else to the answers of `readModelAnswer`. */
  handler(snapshotIntervalMs = 60_000, readModel?: Pick<ReadModelWriter, 'apply'>): BatchHandler {
    const world = this;
    return new BatchHandler(
      {
        owners: this.owners,
        seek: (partition, offset) => this.seeks.push([partition, offset]),
        writer: {
          get backlog() {
            return world.backlog;
          },
          write: (docs) =>
            new Promise<void>((resolve, reject) => {
              this.events.push(`write ${docs.length}`);
              // Once the insert is done, the database holds the documents.
              const done = () => {
                this.db.insert(docs);
                resolve();
              };
              this.writes.push({ docs, done: { resolve: done, reject } });
            }),
        },
        ledger: {
          find: ((query: Filter<LedgerDoc>) => {
            this.lookups.push(query);
            if (this.lookupFailures > 0) {
              this.lookupFailures--;
              return { toArray: async () => Promise.reject(new Error('database away')) };
            }
            return this.db.finder.find(query);
          }) as unknown as LedgerFinder['find'],
        },
        readModel: readModel ?? {
          apply: async (_partition, accounts, _stored, announced) => {
            this.events.push('read model');
            if (this.readModelAnswer instanceof Error) throw this.readModelAnswer;
            this.readModelWrites.push(accounts);
            this.outcomes.push(...announced.map((announcement) => announcement.outcome));
            return this.readModelAnswer;
          },
        },
        snapshots: {
          save: async (snapshot: PartitionSnapshot, base?: number) => {
            this.events.push(`snapshot ${snapshot.offset}`);
            this.saved.push({ offset: snapshot.offset, base });
          },
        },
        deadLetters: {
          publish: async (topic, _partition, letters) => {
            if (this.deadLetterFailures > 0) {
              this.deadLetterFailures--;
              throw new Error('broker away');
            }
            this.events.push(`dead letters ${letters.length} to ${topic}`);
            if (letters.length > 0) this.deadLetters.push(letters);
          },
        },
        minted: {
          publish: async (messages) => {
            if (this.mintedFailures > 0) {
              this.mintedFailures--;
              throw new Error('broker away');
            }
            this.events.push(`minted ${messages.length}`);
            this.minted.push(...messages);
          },
        },
        ...(this.eventsEnabled ? { events: { publish: async (docs: readonly LedgerDoc[]) => this.publishEvents(docs) } } : {}),
        committer: {
          mark: (partition, offset) => {
            this.events.push(`commit ${offset}`);
            this.commits.push([partition, offset]);
          },
        },
        log,
        stopping: () => this.stopping,
        now: () => this.now,
      },
      { topic: TOPIC, snapshotIntervalMs, lateCancelMarginMs: LATE_CANCEL_MARGIN_MS },
    );
  }

  private publishEvents(docs: readonly LedgerDoc[]): void {
    if (this.eventFailures > 0) {
      this.eventFailures--;
      throw new Error('broker away');
    }
    this.events.push(`events ${docs.length}`);
    this.ledgerEvents.push(...docs.map(eventOf));
  }

  /** The owner of `partition` once loaded. */
  owner(partition: number) {
    return this.owners.get(partition)!;
  }
}

export function record(offset: number, message: LogMessage | string): RawRecord {
  const value = typeof message === 'string' ? Buffer.from(message) : encodeMessage(message);
  return { offset: String(offset), key: null, value };
}

/** Deposits of 10 into `account` at offsets from `from` to `to`. */
export function deposits(from: number, to: number, account = 'acc'): RawRecord[] {
  const records: RawRecord[] = [];
  for (let offset = from; offset <= to; offset++) records.push(record(offset, deposit(`d${offset}`, account, 10)));
  return records;
}

/** A kafkajs batch payload of `records` on `partition`; `resolved` collects resolveOffset calls. */
export function payload(partition: number, records: RawRecord[], options: { highWatermark?: number; stale?: boolean } = {}) {
  const resolved: string[] = [];
  const last = records[records.length - 1]?.offset ?? '-1';
  const batch: BatchPayload = {
    batch: {
      partition,
      highWatermark: String(options.highWatermark ?? Number(last) + 1),
      messages: records,
      isEmpty: () => records.length === 0,
      firstOffset: () => records[0]?.offset ?? null,
      lastOffset: () => last,
    },
    resolveOffset: (offset) => void resolved.push(offset),
    heartbeat: async () => undefined,
    isStale: () => options.stale ?? false,
  };
  return { batch, resolved };
}

/** Runs a batch through the handler and lets its insert finish. */
export async function decideAndInsert(world: World, handler: BatchHandler, partition: number, records: RawRecord[]) {
  const { batch, resolved } = payload(partition, records);
  await handler.handle(batch);
  world.writes.at(-1)?.done.resolve();
  await settle();
  return resolved;
}

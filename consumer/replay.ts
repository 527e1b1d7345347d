// Replaying a stretch of one partition's log from a starting state (a
// snapshot, or the empty state at the log's start) through the owner's own
// batch path (consumer/batch-decision.ts): parse the records, look up the ids
// they may repeat, decide them. The answers are the owner's because the path
// is: decisions are a function of the log (docs/ledger-rules.md, Invariants).
//
// The one thing from outside is the lookup of ids the starting state may
// remember from before it: the ledger's (consumer/id-lookup.ts `lookUp`),
// whose documents at or past a message's offset never count for that message
// (`DurableDecisions.firstOutcome`), so a replay never sees the future even
// though the ledger holds it; or one held in memory, in tests. The records
// come from the caller: Kafka (consumer/log-range.ts), or an array in tests.
import type { DurableIds } from './remembered-ids.js';
import { decideBatch, lookupsOf, parseRecords, type BatchDecision, type RawRecord } from './batch-decision.js';
import { PartitionLedger, type PartitionSnapshot } from './partition.js';
import { LEDGER_RULES, type LedgerRules } from './partition-rules.js';

/** Where a replay of one partition starts. */
export interface ReplayStart {
  partition: number;
  /** A whole state (a merged chain) as of its offset; absent: the empty state at offset 0, the log's start. */
  snapshot?: PartitionSnapshot;
}

/** Answers what the ledger holds of the ids (`ledgerId`) a batch may repeat. */
export type IdLookup = (partition: number, keys: ReadonlySet<string>) => Promise<DurableIds>;

/** Records decided per lookup: a batch of the owner's is of this order (4 MiB of a partition). */
export const REPLAY_BATCH = 1000;

/** The first offset a replay from `start` reads. */
export function startOffset(start: ReplayStart): number {
  return start.snapshot?.offset ?? 0;
}

export interface ReplayOptions {
  /** The per-account rules to decide with (a shadow's); absent: consumer/ledger.ts. */
  rules?: LedgerRules;
  /** Asked between batches: true stops the replay (its deadline passed). */
  stop?: () => boolean;
}

/** The replay was stopped before its end (`ReplayOptions.stop`). */
export class ReplayStopped extends Error {
  constructor(readonly offset: number) {
    super(`the replay stopped at offset ${offset}`);
    this.name = 'ReplayStopped';
  }
}

/**
 * One partition's state, replayed forward from its start. Records must come
 * in offset order with none missing: the state stands at `nextOffset`.
 */
export class PartitionReplay {
  readonly ledger: PartitionLedger;
  /** Records replayed so far. */
  records = 0;
  private next: number;

  constructor(
    readonly start: ReplayStart,
    idWindowMs: number,
    private readonly lookUp: IdLookup,
    private readonly options: ReplayOptions = {},
  ) {
    const rules = options.rules ?? LEDGER_RULES;
    const { snapshot } = start;
    this.ledger = snapshot ? PartitionLedger.restore(snapshot, idWindowMs, rules) : new PartitionLedger(start.partition, idWindowMs, rules);
    this.next = startOffset(start);
  }

  get nextOffset(): number {
    return this.next;
  }

  /**
   * Decides `records`, in batches of REPLAY_BATCH as the owner decides its
   * own, and returns each batch's decision. Those before `writtenBefore` move
   * the state only, as an owner replays what an earlier owner wrote.
   */
  async replay(records: readonly RawRecord[], writtenBefore = Number.MAX_SAFE_INTEGER): Promise<BatchDecision[]> {
    const decisions: BatchDecision[] = [];
    for (let i = 0; i < records.length; i += REPLAY_BATCH) {
      if (this.options.stop?.()) throw new ReplayStopped(this.next);
      decisions.push(await this.replayBatch(records.slice(i, i + REPLAY_BATCH), writtenBefore));
      // A long replay runs beside other work (an api replica's calls): let it in between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return decisions;
  }

  private async replayBatch(batch: readonly RawRecord[], writtenBefore: number): Promise<BatchDecision> {
    batch.forEach((record, i) => {
      const offset = Number(record.offset);
      if (offset !== this.next + i) throw new Error(`partition ${this.start.partition}: the replay expected offset ${this.next + i}, and the records give ${offset}`);
    });
    const parsed = parseRecords([...batch]);
    const durable = await this.lookUp(this.start.partition, lookupsOf(this.ledger, parsed));
    const decision = decideBatch(this.ledger, parsed, writtenBefore, durable);
    this.next = Number(batch[batch.length - 1]!.offset) + 1;
    this.records += batch.length;
    return decision;
  }
}

// The ledger collection in memory, for tests of the partition state machine
// without a database: documents kept by `_id` (inserting one again changes
// nothing, as MongoDB's unique index does), and the queries a batch's lookup
// makes (consumer/id-lookup.ts) answered by matching them here, so that a
// test decides exactly as the batch path does once memory has let go.
import type { Filter } from 'mongodb';
import { DurableDecisions, decisionQueries, statusQueries, type LedgerFinder } from '../../consumer/id-lookup.js';
import type { PartitionLedger, Step } from '../../consumer/partition.js';
import type { LedgerDoc, LogMessage } from '../../common/types.js';

export class MemoryLedger {
  private readonly docs = new Map<string, LedgerDoc>();

  get size(): number {
    return this.docs.size;
  }

  insert(docs: Iterable<LedgerDoc>): void {
    for (const doc of docs) if (!this.docs.has(doc._id)) this.docs.set(doc._id, structuredClone(doc));
  }

  /** The documents `filter` matches: top-level `{field: value}` and `{field: {$in: [...]}}` only, what lookups use. */
  match(filter: Filter<LedgerDoc>): LedgerDoc[] {
    return [...this.docs.values()].filter((doc) => matches(doc, filter)).map((doc) => structuredClone(doc));
  }

  /** The collection's `find`, as `lookUp` calls it. */
  readonly finder: LedgerFinder = {
    find: ((filter: Filter<LedgerDoc>) => ({ toArray: async () => this.match(filter) })) as unknown as LedgerFinder['find'],
  };

  /** What `lookUp` reads for `keys` of `partition`, synchronously: the same two rounds of the same queries. */
  lookUp(partition: number, keys: ReadonlySet<string>): DurableDecisions {
    const decisions = decisionQueries(keys).flatMap((query) => this.match(query));
    const found = new DurableDecisions(partition, keys, decisions);
    const changes = statusQueries(found.changeableIds()).flatMap((query) => this.match(query));
    return new DurableDecisions(partition, keys, [...decisions, ...changes]);
  }

  /**
   * Applies `messages` from `offset` as one batch, each with its record's
   * timestamp (`timestamps`, by index): looks up what the partition may need,
   * applies each, and returns the steps; inserts nothing.
   */
  decide(ledger: PartitionLedger, messages: LogMessage[], offset: number, timestamps: (number | undefined)[] = []): Step[] {
    const durable = this.lookUp(ledger.partition, ledger.lookupsFor(messages.map((msg, i) => ({ msg, timestamp: timestamps[i] }))));
    return messages.map((message, i) => ledger.apply(message, offset + i, timestamps[i], durable));
  }

  /** Applies one message as a batch of its own and inserts its documents at once. */
  apply(ledger: PartitionLedger, message: LogMessage, offset: number, timestamp?: number): Step {
    const [step] = this.decide(ledger, [message], offset, [timestamp]);
    this.insert(step!.docs);
    return step!;
  }
}

function matches(doc: LedgerDoc, filter: Filter<LedgerDoc>): boolean {
  for (const [field, wanted] of Object.entries(filter)) {
    const value = (doc as unknown as Record<string, unknown>)[field];
    if (wanted !== null && typeof wanted === 'object') {
      if (Object.keys(wanted).join() !== '$in') throw new Error(`no matcher for ${JSON.stringify(wanted)}`);
      if (!(wanted.$in as unknown[]).includes(value)) return false;
    } else if (value !== wanted) {
      return false;
    }
  }
  return true;
}

// What a partition remembers of its ids for the id window. In memory it keeps
// only the decisions whose documents may not be in the ledger yet, and a
// filter of the window's ids (consumer/id-filter.ts). The rest is in the
// ledger: before a batch, the ids the filter may hold are looked up there
// (`PartitionLedger.lookupsFor`, consumer/id-lookup.ts), and the batch is
// decided with what was found, the same answers whatever memory or the
// database held.
import type { Outcome } from '../common/types.js';
import { recall, rememberedAt, type Remembered } from '../common/remembered.js';
import { IdFilter, restoreFilter } from './id-filter.js';
import { splitLedgerId } from './ledger.js';

/** An id's decision (`ledgerId` key) as of a message, read from the ledger: what a batch looked up. */
export interface DurableIds {
  /** Whether `key` was looked up: one that was not is not in the ledger within the window. */
  lookedUp(key: string): boolean;
  /** The first outcome of `key` as a message at `offset` sees it, if decided at `horizon` or later. */
  firstOutcome(key: string, offset: number, horizon: number): Outcome | undefined;
}

/** What a lookup of a remembered id needs besides the id: the batch's durable ids and the window's horizon. */
export interface Lookup {
  durable: DurableIds | undefined;
  horizon: number;
}

export class RememberedIds {
  /** Decisions, and changes of them, whose documents may not be in the ledger yet, by `ledgerId`, with the offset of the message whose documents record them. */
  private readonly undurable = new Map<string, { remembered: Remembered; offset: number }>();
  /** Ids added to the filter since the last `takeAdded`: what a delta snapshot carries. */
  private added: [string, number][] = [];

  private constructor(
    private readonly filter: IdFilter,
    /** True until memory lets go of a decision (or starts from a snapshot): every remembered id is then in memory. */
    private memoryHoldsAll: boolean,
  ) {}

  static empty(idWindowMs: number): RememberedIds {
    return new RememberedIds(new IdFilter(idWindowMs), true);
  }

  /** The ids of a snapshot (its filter, and the ids listed after it), with nothing held in memory: their decisions are in the ledger. */
  static restore(filter: string | undefined, ids: readonly [string, number][], idWindowMs: number): RememberedIds {
    return new RememberedIds(restoreFilter(filter, ids, idWindowMs), false);
  }

  /** The decisions held in memory and decided at `horizon` or later, as repeats would answer them. */
  *outcomes(horizon: number): IterableIterator<Outcome> {
    for (const [key, held] of this.undurable) {
      if (rememberedAt(held.remembered) < horizon) continue;
      const { accountId, id } = splitLedgerId(key);
      yield recall(accountId, id, held.remembered);
    }
  }

  /** Ids decided at `horizon` or later (counted by the filter, to within a sixty-fourth of the window). */
  countSince(horizon: number): number {
    return this.filter.countSince(horizon);
  }

  /** Bytes of the filter's bits. */
  get filterBytes(): number {
    return this.filter.bytes;
  }

  /** Every document of a message before `offset` is in the ledger: memory lets go of their decisions. */
  durableBefore(offset: number): void {
    for (const [key, held] of this.undurable) {
      if (held.offset >= offset) continue;
      this.undurable.delete(key);
      this.memoryHoldsAll = false;
    }
  }

  /** Whether the ledger may hold a decision of `key` that memory does not: one to look up. */
  mayBeOnlyInLedger(key: string): boolean {
    return !this.undurable.has(key) && this.filter.mayContain(key);
  }

  /** The first outcome of `key` that a message at `offset` sees: from memory, or from the ledger. */
  firstOutcome(key: string, offset: number, { durable, horizon }: Lookup): Outcome | undefined {
    const held = this.undurable.get(key);
    if (held !== undefined) {
      if (rememberedAt(held.remembered) < horizon) return undefined;
      const { accountId, id } = splitLedgerId(key);
      return recall(accountId, id, held.remembered);
    }
    if (durable?.lookedUp(key)) return durable.firstOutcome(key, offset, horizon);
    // An id the filter does not hold, or one memory would hold, is not remembered (the filter can answer
    // "maybe" for an id it never held); one it may hold, which memory let go of, must have been looked up.
    if (durable === undefined && !this.memoryHoldsAll && this.filter.mayContain(key)) throw new Error(`${key} may be in the ledger and was not looked up`);
    return undefined;
  }

  /** A first decision of `key` at log time `at`, recorded by the documents of the message at `offset`. */
  decided(key: string, remembered: Remembered, offset: number, at: number): void {
    this.undurable.set(key, { remembered, offset });
    this.filter.add(key, at);
    this.added.push([key, at]);
  }

  /** A decision changed (a request cancelled or lapsed): held until the documents of the message at `offset` are in the ledger. */
  changed(key: string, remembered: Remembered, offset: number): void {
    this.undurable.set(key, { remembered, offset });
  }

  /** Ids are remembered for a window of log time: the filter drops the slices that left it. */
  forgetBefore(horizon: number): void {
    this.filter.forgetBefore(horizon);
  }

  /** The filter as a whole snapshot carries it (`IdFilter.serialize`, base64). */
  serializedFilter(): string {
    return this.filter.serialize().toString('base64');
  }

  /** The ids added since the previous call, in order, each with its decision time. */
  takeAdded(): [string, number][] {
    const added = this.added;
    this.added = [];
    return added;
  }
}

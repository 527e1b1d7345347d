// Cuts (docs/history.md): the ledger consumer group's committed offsets of
// every partition at one moment, kept in MongoDB (`cuts`, common/cuts.ts), and
// an account's balance at one. Below a partition's committed offset every
// ledger document is inserted (api/committed-offsets.ts says why), and the
// ledger is append-only: a replay inserts documents with the same `_id`s, which
// are refused as duplicates, and a decision is never updated. So what an
// account's documents below the cut say is fixed the moment the cut is taken,
// and the answer at a cut is the same forever.
import type { Collection } from 'mongodb';
import { cutDocument, cutOfDocument, newCutId, type Cut, type CutDoc } from '../common/cuts.js';
import { createError, TELLER_ERR_CUT_NOT_FOUND } from '../common/errors.js';
import { ledgerCall } from './ledger-call.js';
import { partitionOf } from '../common/message.js';
import type { AccountHistory, PastAccount } from './account-history.js';
import type { CommittedOffsets } from './committed-offsets.js';

/** What cuts use of the `cuts` collection: the real one, or an in-memory one in tests. */
export type CutStore = Pick<Collection<CutDoc>, 'insertOne' | 'findOne'>;

/** How long storing or reading a cut may take on the server. */
const CUT_STORE_MAX_MS = 5_000;

export interface CutDeps {
  store: CutStore;
  offsets: Pick<CommittedOffsets, 'fetch'>;
  history: Pick<AccountHistory, 'at'>;
  /** The topic and consumer group the offsets are of, recorded with each cut. */
  source: { topic: string; groupId: string };
  now?: () => number;
}

/** An account at a cut: the partition it lives in, the cut's offset there, and its state below it. */
export interface AccountAtCut {
  cut: Cut;
  partition: number;
  offset: number;
  account: PastAccount;
}

export class Cuts {
  constructor(private readonly deps: CutDeps) {}

  /** Reads the committed offsets and stores them as a new cut. */
  async take(): Promise<Cut> {
    const offsets = await this.deps.offsets.fetch();
    const createdAt = (this.deps.now ?? Date.now)();
    const cut: Cut = { id: newCutId(createdAt), createdAt, offsets };
    await ledgerCall(() => this.deps.store.insertOne(cutDocument(cut, this.deps.source), { maxTimeMS: CUT_STORE_MAX_MS }));
    return cut;
  }

  /** The cut stored as `id`; TELLER_ERR_CUT_NOT_FOUND when there is none. */
  async get(id: string): Promise<Cut> {
    const doc = await ledgerCall(() => this.deps.store.findOne({ _id: id }, { maxTimeMS: CUT_STORE_MAX_MS }));
    if (!doc) throw createError(TELLER_ERR_CUT_NOT_FOUND, { cut: id });
    return cutOfDocument(doc);
  }

  /**
   * `accountId` at the cut `id`: right after its last document below the cut's
   * offset in its partition. The partition is the producer's, partitionOf
   * over the topic's partitions, every one of which the cut lists.
   */
  async account(id: string, accountId: string): Promise<AccountAtCut> {
    const cut = await this.get(id);
    const partition = partitionOf(accountId, cut.offsets.size);
    const offset = cut.offsets.get(partition) ?? 0;
    const account = await this.deps.history.at(accountId, { partition, before: offset });
    return { cut, partition, offset, account };
  }
}

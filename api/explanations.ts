// Explanations of decisions, for GET /v1/transactions/:id/explanation and its
// account-scoped twin (docs/explanations.md). The transaction's ledger
// document gives its partition and offset; the partition is replayed from the
// newest snapshot kept at or before that offset (or from the log's start,
// while the log still holds it) up to it, through the consumer's own rules
// (consumer/explanation.ts), which the api may run because they are pure
// (docs/architecture.md); the answer is the rule that decided, what it read,
// and whether the replay wrote the ledger's document again.
//
// A replay reads Kafka and the ledger and may decide thousands of records, so
// a replica runs one at a time and queues a few (api/turns.ts), each within a
// deadline below NGINX's proxy_read_timeout (15 s): past it, a 503.
import { createError, TellerError, TELLER_ERR_EXPLANATIONS_BUSY, TELLER_ERR_HISTORY_GONE, TELLER_ERR_LOG_UNAVAILABLE, TELLER_ERR_TRANSACTION_NOT_FOUND } from '../common/errors.js';
import { ledgerCall } from './ledger-call.js';
import { isTransaction, partitionOf } from '../common/message.js';
import type { LedgerDoc } from '../common/types.js';
import { DecisionExplainer, matchesLedger, NothingToExplain, type Explanation } from '../consumer/explanation.js';
import { lookUp, type LedgerFinder } from '../consumer/id-lookup.js';
import { LogGap, LogReadTimeout, type LogRangeReader } from '../consumer/log-range.js';
import type { PartitionSnapshot } from '../consumer/partition.js';
import { ReplayStopped, type IdLookup } from '../consumer/replay.js';
import type { SnapshotStore } from '../consumer/snapshots.js';
import { ledgerDocument, ledgerDocumentAt, type LedgerReader } from './ledger-lookup.js';
import { Turns, type TurnLimits } from './turns.js';

/** Which decision: the id's newest (on the account, when named), or the record of the id at `offset` of the account's partition. */
export interface ExplanationQuery {
  id: string;
  accountId?: string;
  /** Only with `accountId`: a repeat or a conflict writes no document, so it is found by its place in the log. */
  offset?: number;
}

export interface ExplainedDecision {
  explanation: Explanation;
  /** What the ledger holds for the record explained: the document explained, or its decision document (none for a repeat). */
  recorded: LedgerDoc | null;
  matchesLedger: boolean;
}

export interface ExplanationSources {
  ledger: LedgerReader & LedgerFinder;
  snapshots: Pick<SnapshotStore, 'loadAtOrBefore'>;
  log: Pick<LogRangeReader, 'bounds' | 'read'>;
  partitions: () => number;
  idWindowMs: number;
}

export const DEFAULT_EXPLANATION_LIMITS: TurnLimits = { queueLimit: 4, deadlineMs: 12_000 };

interface Target {
  partition: number;
  offset: number;
  recorded: LedgerDoc | null;
  /** The document to explain, when it is not the record's decision (a lapse). */
  documentId?: string;
}

export class Explanations {
  private readonly turns: Turns;

  constructor(
    private readonly sources: ExplanationSources,
    private readonly limits: TurnLimits = DEFAULT_EXPLANATION_LIMITS,
  ) {
    this.turns = new Turns(limits.queueLimit, (why) => createError(TELLER_ERR_EXPLANATIONS_BUSY, { why: `the replica's replays are busy (${why})` }));
  }

  /** `mayAccess`: whether the caller may see the account the decision is on; when not, it is not found. */
  async explain(query: ExplanationQuery, mayAccess: (accountId: string) => boolean = () => true): Promise<ExplainedDecision> {
    const deadline = Date.now() + this.limits.deadlineMs;
    return this.turns.run(deadline, async () => {
      const target = await this.target(query);
      if (target.recorded && !mayAccess(target.recorded.accountId)) throw createError(TELLER_ERR_TRANSACTION_NOT_FOUND, { id: query.id });
      const explanation = await this.replay(query, target, deadline);
      const { message } = explanation;
      if (query.offset !== undefined && !(isTransaction(message) && message.id === query.id && message.accountId === query.accountId)) {
        throw createError(TELLER_ERR_TRANSACTION_NOT_FOUND, { id: query.id });
      }
      return { explanation, recorded: target.recorded, matchesLedger: matchesLedger(explanation, target.recorded ?? undefined) };
    });
  }

  private async target({ id, accountId, offset }: ExplanationQuery): Promise<Target> {
    const { ledger } = this.sources;
    if (offset !== undefined && accountId !== undefined) {
      const partition = partitionOf(accountId, this.sources.partitions());
      const recorded = await ledgerCall(() => ledgerDocumentAt(ledger, partition, offset));
      // The decision there is another transaction's: nothing of this one to replay.
      if (recorded && (recorded.id !== id || recorded.accountId !== accountId)) throw createError(TELLER_ERR_TRANSACTION_NOT_FOUND, { id });
      return { partition, offset, recorded };
    }
    const doc = await ledgerCall(() => ledgerDocument(ledger, id, accountId));
    if (!doc) throw createError(TELLER_ERR_TRANSACTION_NOT_FOUND, { id });
    const target: Target = { partition: doc.partition, offset: doc.offset, recorded: doc };
    if (doc.type === 'expire') target.documentId = doc._id;
    return target;
  }

  private async replay(query: ExplanationQuery, { partition, offset, documentId }: Target, deadline: number): Promise<Explanation> {
    const { snapshots, log, idWindowMs } = this.sources;
    const snapshot = await ledgerCall(() => snapshots.loadAtOrBefore(partition, offset));
    const from = snapshot?.offset ?? 0;
    const bounds = (await fromLog(() => log.bounds(deadline))).get(partition);
    const gone = (missing: number) => createError(TELLER_ERR_HISTORY_GONE, { id: query.id, partition, offset, missing });
    if (!bounds || bounds.first > from) throw gone(from);
    if (bounds.end <= offset) throw createError(TELLER_ERR_TRANSACTION_NOT_FOUND, { id: query.id });
    const start: { partition: number; snapshot?: PartitionSnapshot } = snapshot ? { partition, snapshot } : { partition };
    const target = documentId === undefined ? { offset } : { offset, documentId };
    const explainer = new DecisionExplainer(start, target, idWindowMs, this.lookUp, { stop: () => Date.now() > deadline });
    try {
      await log.read([{ partition, from, to: offset + 1 }], (_, records) => explainer.feed(records), deadline);
      return explainer.explanation();
    } catch (err) {
      if (err instanceof TellerError) throw err;
      if (err instanceof LogGap) throw gone(err.missing);
      if (err instanceof NothingToExplain) throw createError(TELLER_ERR_TRANSACTION_NOT_FOUND, { id: query.id });
      if (err instanceof LogReadTimeout || err instanceof ReplayStopped) throw createError(TELLER_ERR_EXPLANATIONS_BUSY, { why: 'the replay ran past its deadline' });
      throw createError(TELLER_ERR_LOG_UNAVAILABLE);
    }
  }

  /** What the ledger holds of ids the replay may repeat; a failure to read it is the ledger's. */
  private readonly lookUp: IdLookup = (partition, keys) => ledgerCall(() => lookUp(this.sources.ledger, partition, keys));
}

async function fromLog<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch {
    throw createError(TELLER_ERR_LOG_UNAVAILABLE);
  }
}

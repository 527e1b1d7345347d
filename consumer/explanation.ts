// Why a message was decided as it was (docs/explanations.md): its partition
// is replayed from a starting state up to the message (consumer/replay.ts),
// the partition tells what the message was decided against (`DecisionInputs`),
// and the explanation gathers those inputs with the rule that decided and the
// outcome the replay gave. A record's lapses are explained the same way, by
// the clock that reached their holds. Nothing here decides: it reads what the
// owner's own path decided.
import { isTransaction, parseMessage } from '../common/message.js';
import type { AccountStatus, ClockSource, LedgerDoc, LogMessage, Outcome, TxMessage } from '../common/types.js';
import type { RawRecord } from './batch-decision.js';
import { documentDifferences } from './document-diff.js';
import { decisionDocId, EMPTY_ACCOUNT, isRequestHold, type Account, type Hold } from './ledger.js';
import { availableFunds, overdraftLimitOf, statusOf } from './ledger-settings.js';
import type { DecisionInputs } from './partition-rules.js';
import type { PartitionLedger } from './partition.js';
import { PartitionReplay, startOffset, type IdLookup, type ReplayOptions, type ReplayStart } from './replay.js';
import type { RuleName } from './rule-names.js';

/** The record to explain, and of its documents which one: its decision (absent), or one of its lapses. */
export interface ExplainTarget {
  offset: number;
  documentId?: string;
}

/** An account as a rule saw it. */
export interface AccountInputs {
  /** Whether the account had changed before: one that never did reads as empty. */
  exists: boolean;
  balance: number;
  reserved: number;
  /** `balance - reserved + overdraftLimit`: what a request may hold or a transfer debit. */
  available: number;
  overdraftLimit: number;
  status: AccountStatus;
  openHolds: number;
  updatedAt: number;
}

export interface Explanation {
  partition: number;
  offset: number;
  /** The message at `offset` (a tick, for a lapse a tick's clock gave). */
  message: LogMessage;
  rule: RuleName;
  /** The message's outcome as the replay gave it (a repeat's marked `replayed`); absent for a lapse. */
  outcome?: Outcome;
  /** The lapse explained, as the replay wrote it. */
  lapse?: LedgerDoc;
  /** The account decided on, before the decision: after the record's lapses (before them, for a lapse). */
  account: AccountInputs;
  /** The holds the rule read: the one named by `requestId`, every request's for a withdrawal without one, the one lapsing. */
  holds: Hold[];
  /** Holds of the account this record's clock lapsed just before its decision. */
  lapsedHolds: Hold[];
  /** The most open holds a withdrawal request allowed (absent: no limit). */
  holdLimit?: number;
  /** The partition's log clock after the record, and what moves it. */
  clock: { at: number; source: ClockSource };
  /** A repeat's or a conflict's remembered first outcome. */
  remembered?: Outcome;
  /** The original a reversal was judged against. */
  original?: Outcome;
  /** Every document the record wrote again (its lapses, then its decision). */
  documents: LedgerDoc[];
  replay: { from: 'snapshot' | 'log-start'; startOffset: number; records: number };
}

/** The record holds nothing to explain: not a message, or a tick that lapsed no hold named. */
export class NothingToExplain extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NothingToExplain';
  }
}

/**
 * Replays a partition from `start` up to a target record, fed in order in
 * as many pieces as come (from Kafka, a batch at a time), and explains it.
 */
export class DecisionExplainer {
  private readonly replay: PartitionReplay;
  private result: Explanation | undefined;

  constructor(
    private readonly start: ReplayStart,
    private readonly target: ExplainTarget,
    idWindowMs: number,
    lookUp: IdLookup,
    options: ReplayOptions = {},
  ) {
    if (target.offset < startOffset(start)) throw new Error(`offset ${target.offset} is before the replay's start at ${startOffset(start)}`);
    this.replay = new PartitionReplay(start, idWindowMs, lookUp, options);
  }

  get done(): boolean {
    return this.result !== undefined;
  }

  /** Replays `records` (from where the replay stands); the target's own record is explained, and any after it ignored. */
  async feed(records: readonly RawRecord[]): Promise<void> {
    if (this.result) return;
    await this.replay.replay(records.filter((r) => Number(r.offset) < this.target.offset));
    const at = records.find((r) => Number(r.offset) === this.target.offset);
    if (at) this.result = await this.explainRecord(at);
  }

  explanation(): Explanation {
    if (!this.result) throw new Error(`the replay has not reached offset ${this.target.offset}`);
    return this.result;
  }

  private async explainRecord(record: RawRecord): Promise<Explanation> {
    const parsed = parseMessage(record.value);
    if (!parsed.ok) throw new NothingToExplain(`the record at offset ${this.target.offset} is not a message: ${parsed.reason}`);
    const { ledger } = this.replay;
    const before = accountsWithHolds(ledger);
    let inputs: DecisionInputs | undefined;
    ledger.observeDecisions = (told) => (inputs = told);
    const [decision] = await this.replay.replay([record], this.target.offset).finally(() => (ledger.observeDecisions = undefined));
    const documents = decision!.docs;
    const common = { partition: ledger.partition, offset: this.target.offset, message: parsed.msg, documents, replay: this.replayFigures() };
    const lapse = documents.find((d) => d._id === this.target.documentId && d.type === 'expire');
    if (lapse) return { ...common, ...lapseInputs(lapse, before.get(lapse.accountId), ledger) };
    const outcome = decision!.announced[0]?.outcome;
    if (!isTransaction(parsed.msg) || !inputs || !outcome) throw new NothingToExplain(`the record at offset ${this.target.offset} decides nothing (a ${parsed.msg.type})`);
    return { ...common, ...decisionInputs(parsed.msg, outcome, inputs, before.get(parsed.msg.accountId)) };
  }

  private replayFigures(): Explanation['replay'] {
    return { from: this.start.snapshot ? 'snapshot' : 'log-start', startOffset: startOffset(this.start), records: this.replay.records };
  }
}

/** Explains the record at `target.offset`, `records` running from the start's offset through it. */
export async function explainRecord(start: ReplayStart, records: readonly RawRecord[], target: ExplainTarget, idWindowMs: number, lookUp: IdLookup): Promise<Explanation> {
  const explainer = new DecisionExplainer(start, target, idWindowMs, lookUp);
  await explainer.feed(records);
  return explainer.explanation();
}

/**
 * Whether the replay wrote again what the ledger holds: the document
 * explained, member for member (consumer/document-diff.ts); for a message
 * that writes no decision (a repeat, a conflict), `recorded` is what the
 * ledger holds at its offset, and there must be none.
 */
export function matchesLedger(explanation: Explanation, recorded: LedgerDoc | undefined): boolean {
  const decisionId = decisionDocId({ partition: explanation.partition, offset: explanation.offset, clock: 0 });
  const replayed = explanation.documents.find((d) => d._id === (recorded?._id ?? decisionId));
  if (recorded === undefined) return replayed === undefined;
  return replayed !== undefined && documentDifferences(recorded, replayed).length === 0;
}

function decisionInputs(msg: TxMessage, outcome: Outcome, inputs: DecisionInputs, before: Account | undefined) {
  const { account, position, rule, remembered, original } = inputs;
  const clock = { at: position.clock, source: position.clockSource ?? 'receivedAt' };
  const lapsedHolds = (before?.holds ?? []).filter((h) => h.expiresAt <= position.clock);
  const explained: Omit<Explanation, 'partition' | 'offset' | 'message' | 'documents' | 'replay'> = {
    rule,
    outcome,
    account: accountInputs(account, account !== EMPTY_ACCOUNT),
    holds: holdsRead(account, msg),
    lapsedHolds,
    clock,
  };
  if (msg.holdLimit !== undefined) explained.holdLimit = msg.holdLimit;
  if (remembered !== undefined) explained.remembered = remembered;
  if (original !== undefined) explained.original = original;
  return explained;
}

function lapseInputs(lapse: LedgerDoc, before: Account | undefined, ledger: PartitionLedger) {
  const account = before ?? EMPTY_ACCOUNT;
  const clock = { at: ledger.clock, source: ledger.clockSource };
  const lapsing = account.holds.filter((h) => h.id === lapse.requestId && h.expiresAt <= ledger.clock);
  const rule: RuleName = 'hold-lapsed';
  return { rule, lapse, account: accountInputs(account, before !== undefined), holds: lapsing, lapsedHolds: lapsing, clock };
}

/** The holds a rule reads of the message's account. */
function holdsRead(account: Account, msg: TxMessage): Hold[] {
  if (msg.type === 'withdraw' && msg.requestId === undefined) return account.holds.filter(isRequestHold);
  if (msg.requestId !== undefined && msg.type !== 'reversal') return account.holds.filter((h) => h.id === msg.requestId);
  return [];
}

function accountInputs(account: Account, exists: boolean): AccountInputs {
  return {
    exists,
    balance: account.balance,
    reserved: account.reserved,
    available: availableFunds(account),
    overdraftLimit: overdraftLimitOf(account),
    status: statusOf(account),
    openHolds: account.holds.length,
    updatedAt: account.updatedAt,
  };
}

/** The partition's accounts that hold funds, as they stand: what a record's lapses may release. */
function accountsWithHolds(ledger: PartitionLedger): Map<string, Account> {
  const held = new Map<string, Account>();
  for (const accountId of ledger.accountIds()) {
    const account = ledger.account(accountId)!;
    if (account.holds.length > 0) held.set(accountId, account);
  }
  return held;
}

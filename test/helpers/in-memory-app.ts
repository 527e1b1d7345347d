// The whole HTTP app (api/app.ts buildApp) with in-memory collaborators: the
// real submitter over a log that decides as each test says, a read model,
// statements, a readiness probe and the metrics, for tests that assert answers
// as a client sees them (test/unit/app-inject.test.ts, test/unit/own-answers.test.ts).
import type { Test } from 'tap';
import { pino } from 'pino';
import { AccountHistory } from '../../api/account-history.js';
import { Admission, type AdmissionOptions } from '../../api/admission.js';
import { buildApp, type AppDeps } from '../../api/app.js';
import type { ApiKeyAuth } from '../../api/auth.js';
import type { ReadinessReport } from '../../api/readiness-probe.js';
import type { TransactionView } from '../../api/readmodel.js';
import { ApiMetrics } from '../../api/api-metrics.js';
import { Cuts } from '../../api/cuts.js';
import { LedgerReads } from '../../api/ledger-reads.js';
import { TransactionSubmitter, type SubmitDeps } from '../../api/submit.js';
import { createError, TELLER_ERR_PRODUCER_UNAVAILABLE, TELLER_ERR_READ_MODEL_UNAVAILABLE } from '../../common/errors.js';
import { isTransaction } from '../../common/message.js';
import type { CutDoc } from '../../common/cuts.js';
import type { AccountView, LedgerDoc, LogMessage, Outcome, TxMessage, TxType } from '../../common/types.js';
import { WebhookRegistry } from '../../api/webhook-registry.js';
import { MemoryWebhookStore } from './memory-webhooks.js';
import { MemoryCollection } from './memory-collection.js';

export const PROBLEM = /^application\/problem\+json/;
export const DECIDED_AT = Date.UTC(2024, 0, 2, 3, 4, 5);
/** The submitter's MAX_HOLDS_PER_ACCOUNT, which every withdrawal request carries. */
export const HOLD_LIMIT = 3;

/** The submitter's settings in the in-memory app: short waits, a window that holds the default time to live. */
export const SUBMIT_SETTINGS = {
  replicaId: 'test',
  partitions: () => 4,
  decisionTimeoutMs: 30,
  // PRODUCER_SEND_TIMEOUT_MS with one broker: the in-memory log answers at once unless a test holds it.
  sendTimeoutMs: 2000,
  idWindowSeconds: 7200,
  requestTtlSeconds: 3600,
  registrySeconds: 600,
} as const;

/** The members an owner copies from a message into its outcome when present (docs/transfers.md). */
const CARRIED = ['counterparty', 'transferId', 'reference', 'metadata', 'overdraftLimit', 'accountStatus', 'pending'] as const;

/** The ledger's usual answer: applied, the amount as the new balance. */
export function applied(msg: TxMessage): Outcome {
  const outcome: Outcome = { id: msg.id, accountId: msg.accountId, type: msg.type, amount: msg.amount, requestId: msg.requestId, status: 'applied', balance: msg.amount ?? 0, reserved: 0, decidedAt: DECIDED_AT };
  for (const key of CARRIED) if (msg[key] !== undefined) Object.assign(outcome, { [key]: msg[key] });
  return outcome;
}

/**
 * The transaction log and the partition owners in one, standing for the
 * batcher and the outcome waiter: takes a message, decides it with `decide`
 * (undefined: no decision in time) and announces the outcome to the waiting call.
 */
export class InMemoryLog {
  readonly sent: TxMessage[] = [];
  readonly listening = true;
  refusing = false;
  /**
   * While set, a message is taken (in `sent`) but not confirmed: its call
   * stays in flight, as behind a slow Kafka, until `confirmHeld` lets it on.
   */
  holding = false;
  private readonly held: (() => void)[] = [];
  decide: (msg: TxMessage) => Outcome | undefined = applied;
  /**
   * A transfer's credit, once its debit is applied and not a repeat (an owner
   * mints no credit for a repeat): announced to the call whose credit token
   * the transfer carries. Undefined: not decided in time.
   */
  credit: (msg: TxMessage, debit: Outcome) => Outcome | undefined = () => undefined;
  private readonly waiting = new Map<string, (outcome: Outcome | undefined) => void>();
  private calls = 0;

  async send(msg: LogMessage): Promise<void> {
    if (this.refusing) throw createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'queue_full' });
    if (!isTransaction(msg)) return;
    this.sent.push(msg);
    if (this.holding) await new Promise<void>((confirm) => this.held.push(confirm));
    const outcome = this.decide(msg);
    // As the owner announces: to the call whose token the message carries.
    if (outcome && msg.callId !== undefined) this.waiting.get(msg.callId)?.(outcome);
    // A transfer's debit, or a pending transfer's post, mints the credit.
    if ((msg.type !== 'transfer' && msg.type !== 'transfer_post') || outcome?.status !== 'applied' || outcome.replayed) return;
    const credit = this.credit(msg, outcome);
    if (credit && msg.creditCallId !== undefined) this.waiting.get(msg.creditCallId)?.(credit);
  }

  /** Confirms the `count` oldest held messages (all by default); their calls go on to their decisions. */
  confirmHeld(count = this.held.length): void {
    for (const confirm of this.held.splice(0, count)) confirm();
  }

  wait(_accountId: string, _id: string, timeoutMs: number): { callId: string; promise: Promise<Outcome | undefined>; cancel: () => void } {
    const callId = `call.${++this.calls}`;
    let settle: (outcome: Outcome | undefined) => void = () => undefined;
    const promise = new Promise<Outcome | undefined>((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      settle = (outcome) => {
        clearTimeout(timer);
        this.waiting.delete(callId);
        resolve(outcome);
      };
    });
    this.waiting.set(callId, settle);
    return { callId, promise, cancel: () => settle(undefined) };
  }
}

/** Redis as the id registry uses it: SET NX GET answers the account an id was first seen on. */
function inMemoryRegistry(): SubmitDeps['redis'] {
  const accounts = new Map<string, string>();
  const registry = {
    async set(key: string, accountId: string): Promise<string | null> {
      const previous = accounts.get(key) ?? null;
      if (previous === null) accounts.set(key, accountId);
      return previous;
    },
  };
  return registry as unknown as SubmitDeps['redis'];
}

/** The events topic's end offsets a webhook registration records, in the in-memory app (4 partitions). */
export const EVENTS_TOPIC_ENDS = [12, 0, 7, 3];

export interface BuildOptions {
  auth?: ApiKeyAuth;
  /** Replaces the in-memory read model (the maps `build` returns then serve nothing). */
  readModel?: AppDeps['readModel'];
  /** Replace the ones over an empty ledger, a group that never committed and no cut. */
  statements?: AppDeps['statements'];
  history?: AppDeps['history'];
  cuts?: AppDeps['cuts'];
  maxWebhooks?: number;
  /** Serves the explanation routes. */
  explanations?: AppDeps['explanations'];
  /** Admission control as api/main.ts installs it, its refusals counted by the metrics; none by default. */
  admission?: Omit<AdmissionOptions, 'onRefused'>;
  /** How long a call waits for its decision, when a test holds calls longer than SUBMIT_SETTINGS' 30 ms. */
  decisionTimeoutMs?: number;
}

export async function build(t: Test, options: BuildOptions = {}) {
  const log = new InMemoryLog();
  const accounts = new Map<string, AccountView>();
  const transactions = new Map<string, TransactionView>();
  const readiness: { current: ReadinessReport } = { current: { ready: true, checks: { kafka: { ok: true } } } };
  const readModel = {
    readModelDown: false,
    async account(accountId: string) {
      if (this.readModelDown) throw createError(TELLER_ERR_READ_MODEL_UNAVAILABLE);
      return accounts.get(accountId) ?? null;
    },
    async transaction(id: string, type?: TxType) {
      const view = transactions.get(id) ?? null;
      return type !== undefined && view?.outcome && view.outcome.type !== type ? null : view;
    },
    async accountTransaction(accountId: string, id: string) {
      const view = transactions.get(id);
      return view?.accountId === accountId ? view : null;
    },
    /** The applied post or void naming the transfer, among the outcomes stored. */
    async settlement(from: string, transferId: string, after: number) {
      for (const { outcome } of transactions.values()) {
        const ends = outcome?.type === 'transfer_post' || outcome?.type === 'transfer_void';
        if (ends && outcome.accountId === from && outcome.requestId === transferId && outcome.status === 'applied' && outcome.decidedAt >= after) return outcome;
      }
      return null;
    },
  };
  const metrics = new ApiMetrics({
    replicaId: 'test',
    producer: () => ({ queued: 0, inFlight: 0, lastBatchSize: 0, failing: false, refused: { queue_full: 0, kafka_unavailable: 0, stopped: 0, queue_timeout: 0 } }),
    waiting: () => 0,
    callsInFlight: () => admission?.callsInFlight ?? 0,
  });
  const admission = options.admission ? new Admission({ ...options.admission, onRefused: (reason) => metrics.refused(reason) }) : undefined;
  const silent = pino({ level: 'silent' });
  const submitter = new TransactionSubmitter({
    batcher: log,
    waiter: log,
    redis: inMemoryRegistry(),
    log: silent,
    ...SUBMIT_SETTINGS,
    ...(options.decisionTimeoutMs === undefined ? {} : { decisionTimeoutMs: options.decisionTimeoutMs }),
    holdLimit: HOLD_LIMIT,
    onResult: (tx, result) => metrics.result(tx, result),
  });
  const statements = options.statements ?? { page: async () => ({ entries: [] }) };
  const webhookStore = new MemoryWebhookStore();
  const topic = { ends: EVENTS_TOPIC_ENDS, down: false };
  const webhooks = new WebhookRegistry({
    store: webhookStore,
    eventsTopicEnds: async () => {
      if (topic.down) throw new Error('kafka unreachable');
      return [...topic.ends];
    },
    maxEndpoints: options.maxWebhooks ?? 50,
    now: () => DECIDED_AT,
  });
  const emptyLedger = new AccountHistory(new LedgerReads(new MemoryCollection<LedgerDoc>() as never));
  const history = options.history ?? emptyLedger;
  const source = { topic: 'teller.transactions', groupId: 'teller-ledger' };
  const cuts = options.cuts ?? new Cuts({ store: new MemoryCollection<CutDoc>() as never, offsets: { fetch: async () => new Map([[0, 0]]) }, history: emptyLedger, source });
  const deps = { log: silent, bodyLimit: 16 * 1024, submitter, readModel: options.readModel ?? readModel, probe: readiness, statements, history, cuts, metrics, webhooks, ...(options.explanations ? { explanations: options.explanations } : {}), ...(admission ? { admission } : {}) };
  const app = await buildApp({ ...deps, ...(options.auth ? { auth: options.auth } : {}) });
  t.teardown(() => app.close());
  return { app, log, accounts, transactions, readiness, readModel, webhookStore, topic, admission };
}

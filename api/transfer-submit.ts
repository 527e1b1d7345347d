// Taking a transfer (docs/transfers.md): its id is claimed on `from` as any
// write's, and a caller that waits waits for both legs. Two waits are
// registered before the message is produced: the debit's under `callId`, the
// credit's under `creditCallId`, which the owner of `from` copies into the
// credit as its `callId`, so that the owner of `to` announces the credit to
// this call. A repeat of a decided transfer mints no new credit: its credit's
// outcome is read back (the read model, else the ledger) until it is there or
// the deadline passes. A two-phase transfer waits for its hold's decision
// alone: its credit comes with its post (`settle`), which waits for both.
import { bodyDigest } from '../common/body.js';
import { hasCode, TELLER_ERR_PRODUCER_UNAVAILABLE } from '../common/errors.js';
import type { Metadata, Outcome, TxMessage } from '../common/types.js';
import type { SubmitResult, TransactionSubmitter, TxRequest } from './submit.js';
import { creditId } from '../common/transfer-ids.js';
import { creditIdOf, type TransferLegs } from './transfer-view.js';
import type { Waiting } from './waiter.js';

export interface TransferRequest {
  id: string;
  from: string;
  to: string;
  amount: number;
  reference?: string;
  metadata?: Metadata;
  /** Two-phase (docs/transfers.md, Two-phase transfers): the amount is held until posted, voided or expired. */
  pending?: true;
  /** Of a two-phase transfer: its hold's time to live (absent: the server's default). */
  expiresInSeconds?: number;
}

/** A post or void of the pending transfer `transferId` on `from`; a post credits `to` (when known) `amount`, or the whole hold. */
export interface SettleRequest {
  id: string;
  kind: 'post' | 'void';
  transferId: string;
  from: string;
  to?: string;
  amount?: number;
  reference?: string;
  metadata?: Metadata;
}

export type SettleResult =
  /** The post or void decided, and a post's credit when it was decided in time. */
  | { kind: 'decided'; settled: Outcome; credit?: Outcome }
  | { kind: 'accepted'; receivedAt: number };

export type TransferResult =
  /** The debit decided, and the credit when it was decided in time after an applied debit. */
  | { kind: 'decided'; legs: TransferLegs & { debit: Outcome } }
  /** Durable in Kafka, the debit not decided in time (or not waited for). */
  | { kind: 'accepted'; receivedAt: number };

export interface TransferDeps {
  /** An outcome an account's owner stored (the read model, else the ledger); null while there is none. */
  readOutcome: (accountId: string, id: string) => Promise<Outcome | null>;
  /** How long to wait between two reads of a repeated transfer's credit. */
  pollIntervalMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 50;

export class TransferSubmitter {
  constructor(
    private readonly submitter: TransactionSubmitter,
    private readonly deps: TransferDeps,
  ) {}

  async submit(transfer: TransferRequest, opts: { wait: boolean }): Promise<TransferResult> {
    const tx = debitRequest(transfer);
    const { msg, result } = await this.take(tx, transfer, opts);
    this.submitter.deps.onResult?.(tx, submitResultOf(result, msg));
    return result;
  }

  private async take(tx: TxRequest, transfer: TransferRequest, opts: { wait: boolean }): Promise<{ msg: TxMessage; result: TransferResult }> {
    this.submitter.refuseHoldOutlivingId(tx);
    // A two-phase transfer mints no credit until its post.
    const { msg, receivedAt, wait, creditWait } = await this.publish(tx, opts.wait, transfer.pending ? undefined : transfer.to);
    const deadline = receivedAt + this.submitter.deps.decisionTimeoutMs;
    if (wait && transfer.pending) {
      const debit = await wait.promise;
      return { msg, result: debit ? { kind: 'decided', legs: { debit } } : { kind: 'accepted', receivedAt } };
    }
    const legs = wait && creditWait ? await this.legs(transfer.to, wait, creditWait, deadline) : undefined;
    return { msg, result: legs ? { kind: 'decided', legs } : { kind: 'accepted', receivedAt } };
  }

  /** Posts or voids a pending transfer; a post waits for its credit too, when `to` is known. */
  async settle(request: SettleRequest, opts: { wait: boolean }): Promise<SettleResult> {
    const tx: TxRequest = { id: request.id, type: request.kind === 'post' ? 'transfer_post' : 'transfer_void', accountId: request.from, requestId: request.transferId };
    for (const key of ['amount', 'reference', 'metadata'] as const) if (request[key] !== undefined) Object.assign(tx, { [key]: request[key] });
    const { msg, receivedAt, wait, creditWait } = await this.publish(tx, opts.wait, request.kind === 'post' ? request.to : undefined);
    const settled = wait ? await wait.promise : undefined;
    const applied = settled?.status === 'applied' && settled.type === 'transfer_post';
    if (!applied || settled.replayed) creditWait?.cancel();
    const result: SettleResult = settled ? { kind: 'decided', settled } : { kind: 'accepted', receivedAt };
    if (applied && request.to !== undefined) {
      const deadline = receivedAt + this.submitter.deps.decisionTimeoutMs;
      const credit = settled.replayed ? await this.readCredit(request.to, creditId(request.transferId, request.from, settled.decidedAt), deadline) : await creditWait?.promise;
      if (credit && result.kind === 'decided') result.credit = credit;
    }
    this.submitter.deps.onResult?.(tx, result.kind === 'decided' ? { kind: 'decided', outcome: result.settled } : { kind: 'accepted', receivedAt, bodyDigest: bodyDigest(msg) });
    return result;
  }

  /**
   * Claims the id, registers the waits and produces the message: the
   * decision's wait under `callId`, and with `creditTo` the credit's under
   * `creditCallId`, which the owner copies into the credit it mints.
   */
  private async publish(tx: TxRequest, wantsWait: boolean, creditTo: string | undefined): Promise<{ msg: TxMessage; receivedAt: number; wait?: Waiting; creditWait?: Waiting }> {
    const { waiter, decisionTimeoutMs } = this.submitter.deps;
    const claimed = await this.submitter.claimId(tx);
    const receivedAt = Date.now();
    const waits = wantsWait && waiter.listening;
    const wait = waits ? waiter.wait(tx.accountId, tx.id, decisionTimeoutMs) : undefined;
    // The credit's id depends on the decision: the call's token is what its announcement is matched by.
    const creditWait = waits && creditTo !== undefined ? waiter.wait(creditTo, `${tx.requestId ?? tx.id}~credit`, decisionTimeoutMs) : undefined;
    const msg = this.submitter.message(tx, receivedAt, wait?.callId, undefined);
    if (creditWait) msg.creditCallId = creditWait.callId;
    try {
      await this.submitter.produce(msg);
    } catch (err) {
      wait?.cancel();
      creditWait?.cancel();
      if (claimed && hasCode(err, TELLER_ERR_PRODUCER_UNAVAILABLE.code)) await this.submitter.releaseId(tx);
      throw err;
    }
    return { msg, receivedAt, ...(wait ? { wait } : {}), ...(creditWait ? { creditWait } : {}) };
  }

  /** The legs decided by `deadline`; undefined when the debit was not. */
  private async legs(to: string, debitWait: Waiting, creditWait: Waiting, deadline: number): Promise<(TransferLegs & { debit: Outcome }) | undefined> {
    const debit = await debitWait.promise;
    if (!debit || debit.status !== 'applied' || debit.replayed) creditWait.cancel();
    if (!debit) return undefined;
    if (debit.status !== 'applied') return { debit };
    const credit = debit.replayed ? await this.readCredit(to, creditIdOf(debit), deadline) : await creditWait.promise;
    return credit ? { debit, credit } : { debit };
  }

  /**
   * The credit of a repeated transfer's debit, read back until it is stored
   * or `deadline` passes. A read that fails counts as not there yet: the
   * answer is then 202, and GET /v1/transfers/:id reads it later.
   */
  private async readCredit(to: string, creditId: string, deadline: number): Promise<Outcome | undefined> {
    const interval = this.deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    for (;;) {
      const credit = await this.deps.readOutcome(to, creditId).catch(() => null);
      if (credit) return credit;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
    }
  }
}

/** The debit as the submitter's parts take a call: a `transfer` on `from`, with `to` as its counterparty. */
function debitRequest(transfer: TransferRequest): TxRequest {
  const tx: TxRequest = { id: transfer.id, type: 'transfer', accountId: transfer.from, amount: transfer.amount, counterparty: transfer.to };
  if (transfer.reference !== undefined) tx.reference = transfer.reference;
  if (transfer.metadata !== undefined) tx.metadata = transfer.metadata;
  if (transfer.pending) tx.pending = true;
  if (transfer.expiresInSeconds !== undefined) tx.ttlSeconds = transfer.expiresInSeconds;
  return tx;
}

/** What the metrics count of a transfer: its debit, as any write's result. */
function submitResultOf(result: TransferResult, msg: TxMessage): SubmitResult {
  if (result.kind === 'decided') return { kind: 'decided', outcome: result.legs.debit };
  return { kind: 'accepted', receivedAt: result.receivedAt, bodyDigest: bodyDigest(msg) };
}

// Taking a transfer (docs/transfers.md): its id is claimed on `from` as any
// write's, and a caller that waits waits for both legs. Two waits are
// registered before the message is produced: the debit's under `callId`, the
// credit's under `creditCallId`, which the owner of `from` copies into the
// credit as its `callId`, so that the owner of `to` announces the credit to
// this call. A repeat of a decided transfer mints no new credit: its credit's
// outcome is read back (the read model, else the ledger) until it is there or
// the deadline passes.
import { bodyDigest } from '../common/body.js';
import { hasCode, TELLER_ERR_PRODUCER_UNAVAILABLE } from '../common/errors.js';
import type { Metadata, Outcome, TxMessage } from '../common/types.js';
import type { SubmitResult, TransactionSubmitter, TxRequest } from './submit.js';
import { creditIdOf, type TransferLegs } from './transfer-view.js';
import type { Waiting } from './waiter.js';

export interface TransferRequest {
  id: string;
  from: string;
  to: string;
  amount: number;
  reference?: string;
  metadata?: Metadata;
}

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
    const { waiter, decisionTimeoutMs } = this.submitter.deps;
    const claimed = await this.submitter.claimId(tx);
    const receivedAt = Date.now();
    const waits = opts.wait && waiter.listening;
    const debitWait = waits ? waiter.wait(transfer.from, transfer.id, decisionTimeoutMs) : undefined;
    // The credit's id depends on the debit's decision: the call's token is what its announcement is matched by.
    const creditWait = waits ? waiter.wait(transfer.to, `${transfer.id}~credit`, decisionTimeoutMs) : undefined;
    const msg = this.submitter.message(tx, receivedAt, debitWait?.callId, undefined);
    if (creditWait) msg.creditCallId = creditWait.callId;
    try {
      await this.submitter.produce(msg);
    } catch (err) {
      debitWait?.cancel();
      creditWait?.cancel();
      if (claimed && hasCode(err, TELLER_ERR_PRODUCER_UNAVAILABLE.code)) await this.submitter.releaseId(tx);
      throw err;
    }
    const legs = debitWait && creditWait ? await this.legs(transfer.to, debitWait, creditWait, receivedAt + decisionTimeoutMs) : undefined;
    return { msg, result: legs ? { kind: 'decided', legs } : { kind: 'accepted', receivedAt } };
  }

  /** The legs decided by `deadline`; undefined when the debit was not. */
  private async legs(to: string, debitWait: Waiting, creditWait: Waiting, deadline: number): Promise<(TransferLegs & { debit: Outcome }) | undefined> {
    const debit = await debitWait.promise;
    if (!debit || debit.status !== 'applied' || debit.replayed) creditWait.cancel();
    if (!debit) return undefined;
    if (debit.status !== 'applied') return { debit };
    const credit = debit.replayed ? await this.readCredit(to, debit, deadline) : await creditWait.promise;
    return credit ? { debit, credit } : { debit };
  }

  /**
   * The credit of a repeated transfer's debit, read back until it is stored
   * or `deadline` passes. A read that fails counts as not there yet: the
   * answer is then 202, and GET /v1/transfers/:id reads it later.
   */
  private async readCredit(to: string, debit: Outcome, deadline: number): Promise<Outcome | undefined> {
    const creditId = creditIdOf(debit);
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
  return tx;
}

/** What the metrics count of a transfer: its debit, as any write's result. */
function submitResultOf(result: TransferResult, msg: TxMessage): SubmitResult {
  if (result.kind === 'decided') return { kind: 'decided', outcome: result.legs.debit };
  return { kind: 'accepted', receivedAt: result.receivedAt, bodyDigest: bodyDigest(msg) };
}

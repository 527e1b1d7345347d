// One batch's sends to Kafka within its callers' time: each call has until its
// deadline, PRODUCER_SEND_TIMEOUT_MS after the batcher took it (time spent
// queued included), and the batch has until the earliest of its callers'. When
// a leader of the cluster is lost, its partitions move to another broker after
// the controller fences it (the broker session) and kafkajs finds the new
// leader after a metadata refresh: a batch sent meanwhile fails, whole or for
// the lost leader's partitions only (common/confirmed-send.ts). Rather than
// fail its calls, the batch resolves the callers Kafka confirmed and sends the
// rest again, until every message is confirmed or the time is spent.
import type { Producer } from 'kafkajs';
import { sendConfirmed, UnconfirmedPartitionsError, type PartitionedRecord } from '../common/confirmed-send.js';
import { createError, hasCode, TELLER_ERR_PRODUCER_UNAVAILABLE, TELLER_ERR_PRODUCER_UNCONFIRMED } from '../common/errors.js';

/** A caller waiting for its message to be confirmed. */
export interface Waiting {
  message: PartitionedRecord['messages'][number];
  /**
   * When the caller is answered at the latest, by the monotonic clock
   * (performance.now()): a step of the wall clock neither cuts nor stretches it.
   */
  deadline: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface AttemptOptions {
  topic: string;
  /** The pause after a failed attempt before the next one. */
  pauseMs: number;
}

/** What became of a batch once every caller of it was settled. */
export interface BatchEnd {
  confirmed: number;
  attempts: number;
  /** Why the callers not confirmed were rejected, when some were. */
  failure?: unknown;
  /** The rejected callers' messages were refused before any was sent (no connection to Kafka). */
  unsent?: boolean;
}

type AttemptResult = { ok: true } | { ok: false; error: unknown } | { budgetSpent: true };

/**
 * Settles every caller of `batch` once: resolved when Kafka confirmed its
 * message by the batch's deadline (its callers' earliest), rejected otherwise.
 */
export async function sendWithinBudget(producer: Pick<Producer, 'send'>, batch: Waiting[], options: AttemptOptions): Promise<BatchEnd> {
  const deadline = earliestDeadline(batch);
  const budgetMs = Math.max(0, deadline - performance.now());
  let timer: NodeJS.Timeout | undefined;
  const budgetSpent = new Promise<AttemptResult>((resolve) => {
    timer = setTimeout(() => resolve({ budgetSpent: true }), budgetMs);
  });
  let remaining = batch;
  let attempts = 0;
  try {
    for (;;) {
      attempts++;
      // The attempt raced out by the budget may still end in the background; its result is
      // never read, so only this loop settles callers, each once.
      const attempt = sendConfirmed(producer, { topic: options.topic, acks: -1, messages: remaining.map((w) => w.message) }).then(
        (): AttemptResult => ({ ok: true }),
        (error: unknown): AttemptResult => ({ ok: false, error }),
      );
      const result = await Promise.race([attempt, budgetSpent]);
      if ('budgetSpent' in result) {
        return reject(remaining, batch, attempts, new Error(`send not confirmed within ${Math.round(budgetMs)} ms, by its earliest caller's deadline (${attempts} attempt(s))`));
      }
      if (result.ok) {
        for (const waiting of remaining) waiting.resolve();
        return { confirmed: batch.length, attempts };
      }
      // Refused before sending (no connection to Kafka): not sent again, the callers learn it at once
      // and the batcher stops taking calls a while. Unavailable (nothing written) on a first attempt
      // only: after it, an earlier attempt did send their messages, which Kafka may still write.
      if (hasCode(result.error, TELLER_ERR_PRODUCER_UNAVAILABLE.code)) {
        return reject(remaining, batch, attempts, result.error, attempts === 1);
      }
      remaining = resolveConfirmed(remaining, result.error);
      if (deadline - performance.now() <= options.pauseMs) return reject(remaining, batch, attempts, result.error);
      // The rest is sent again after a pause. The failed attempt may have written some of it after
      // all: a re-sent message carries the same transaction id and body, and the owner applies an
      // id at most once (a repeat gets the first outcome), so a message in the log twice is applied once.
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  } finally {
    clearTimeout(timer);
  }
}

/** The first of the callers' deadlines: the batch's, since the callers left when it passes are answered together. */
function earliestDeadline(batch: readonly Waiting[]): number {
  let earliest = Infinity;
  for (const waiting of batch) earliest = Math.min(earliest, waiting.deadline);
  return earliest;
}

/** Resolves the callers whose partitions the failed attempt confirmed; returns the others. */
function resolveConfirmed(remaining: Waiting[], error: unknown): Waiting[] {
  if (!(error instanceof UnconfirmedPartitionsError)) return remaining;
  const unconfirmed = new Set(error.partitions);
  const left: Waiting[] = [];
  for (const waiting of remaining) {
    if (unconfirmed.has(waiting.message.partition)) left.push(waiting);
    else waiting.resolve();
  }
  return left;
}

/**
 * Rejects the callers left: unavailable when nothing of theirs was ever sent,
 * unconfirmed otherwise (Kafka may still write it; the client retries with the same id).
 */
function reject(remaining: Waiting[], batch: Waiting[], attempts: number, failure: unknown, unsent = false): BatchEnd {
  const error = unsent
    ? createError(TELLER_ERR_PRODUCER_UNAVAILABLE, { reason: 'kafka_unavailable' })
    : createError(TELLER_ERR_PRODUCER_UNCONFIRMED, { reason: failure instanceof Error ? failure.message : String(failure) });
  for (const waiting of remaining) waiting.reject(error);
  return { confirmed: batch.length - remaining.length, attempts, failure, unsent };
}

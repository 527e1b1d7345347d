// The catalogue's entries for reads of the past (docs/history.md: balances as
// of a time, cuts, statement filters) and replays of decisions
// (docs/explanations.md), part of the one catalogue common/errors.ts exports;
// api/problem.ts maps them to HTTP.
import type { CatalogueEntry } from './errors.js';

// Refusals of the call itself: the same call can never succeed.

/** A date-time in a query that is not RFC 3339 (with its offset), or not a time a date can hold. */
export const TELLER_ERR_INVALID_DATE_TIME: CatalogueEntry<{ parameter: string }> = {
  code: 'TELLER_ERR_INVALID_DATE_TIME',
  retryable: false,
  message: ({ parameter }) => `${parameter} is not an RFC 3339 date-time with its offset, such as 2024-01-02T03:04:05Z`,
  details: ({ parameter }) => ({ parameter }),
};

/**
 * A balance asked as of a time still to come: its answer could still change,
 * and an answer as of a time is one that never does (docs/history.md).
 */
export const TELLER_ERR_AS_OF_IN_THE_FUTURE: CatalogueEntry<{ asOf: string; now: string }> = {
  code: 'TELLER_ERR_AS_OF_IN_THE_FUTURE',
  retryable: false,
  message: ({ asOf, now }) => `asOf ${asOf} is later than now (${now}): the ledger can say what was, not what will be`,
  details: ({ now }) => ({ now }),
};

/** A statement's `from` not before its `to`: a range that holds nothing, most likely the two swapped. */
export const TELLER_ERR_INVALID_TIME_RANGE: CatalogueEntry<{ from: string; to: string }> = {
  code: 'TELLER_ERR_INVALID_TIME_RANGE',
  retryable: false,
  message: ({ from, to }) => `from (${from}) must be before to (${to}): from is inclusive, to exclusive`,
};

/** A cut id no cut was stored under (docs/history.md). */
export const TELLER_ERR_CUT_NOT_FOUND: CatalogueEntry<{ cut: string }> = {
  code: 'TELLER_ERR_CUT_NOT_FOUND',
  retryable: false,
  message: ({ cut }) => `no cut ${cut}`,
};

/**
 * A decision that can no longer be replayed (docs/explanations.md): no
 * snapshot kept is at or before it, and the log no longer holds the records
 * from its start. Nothing will change that.
 */
export const TELLER_ERR_HISTORY_GONE: CatalogueEntry<{ id: string; partition: number; offset: number; missing: number }> = {
  code: 'TELLER_ERR_HISTORY_GONE',
  retryable: false,
  message: ({ id, partition, offset, missing }) =>
    `transaction ${id} (partition ${partition}, offset ${offset}) cannot be replayed: no snapshot kept is that old, and the log no longer holds offset ${missing}`,
  details: ({ partition, offset, missing }) => ({ partition, offset, missing }),
};

// A component cannot serve the call now: the same call may succeed in a moment.

/** The consumer group's committed offsets could not be read from Kafka for a cut. */
export const TELLER_ERR_OFFSETS_UNAVAILABLE: CatalogueEntry = {
  code: 'TELLER_ERR_OFFSETS_UNAVAILABLE',
  retryable: true,
  message: () => 'the transaction log did not give its committed offsets in time; no cut was taken, retry shortly',
};

/** The transaction log (Kafka) could not be read for a replay. */
export const TELLER_ERR_LOG_UNAVAILABLE: CatalogueEntry = {
  code: 'TELLER_ERR_LOG_UNAVAILABLE',
  retryable: true,
  message: () => 'the transaction log cannot be read now; retry shortly',
};

/** The replica's replays are taken (one at a time, a few waiting), or this one waited or ran past its deadline. */
export const TELLER_ERR_EXPLANATIONS_BUSY: CatalogueEntry<{ why: string }> = {
  code: 'TELLER_ERR_EXPLANATIONS_BUSY',
  retryable: true,
  message: ({ why }) => `the decision was not replayed: ${why}; retry shortly`,
};

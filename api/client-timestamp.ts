// The compatibility route's `timestamp`: when the client says it made the
// call. It is the client's claim and nothing more: the ledger document keeps
// it as `clientTimestamp`, and nothing reads it to order, expire or forget
// anything (the log orders calls; the log clock alone judges time). Its form
// in the message is common/message.ts's CLIENT_TIMESTAMP_PATTERN.

/**
 * RFC 3339 `date-time` as its grammar has it (section 5.6): `T` between date
 * and time, seconds, an optional fraction, `Z` or a `+hh:mm` / `-hh:mm`
 * offset (either case of `T` and `Z`, as the RFC allows). The `date-time`
 * format checks the calendar (no 30 February, leap seconds only at 23:59:60
 * UTC); it alone would also take forms the RFC does not, such as `+0100`.
 */
export const RFC3339_DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$';

/** The latest instant a JavaScript date holds (ECMA-262, Time Values), in ms since the epoch. */
const LATEST_DATE_MS = 8_640_000_000_000_000;

export const timestampSchema = {
  description:
    "When the client made the call, by the client's clock: RFC 3339 date-time (with its offset) or ms since the epoch. Kept in the ledger as the client's claim (`clientTimestamp`); it orders and expires nothing and is not part of the body a repeat is compared by.",
  anyOf: [
    { type: 'string', maxLength: 64, format: 'date-time', pattern: RFC3339_DATE_TIME },
    { type: 'integer', minimum: 0, maximum: LATEST_DATE_MS },
  ],
} as const;

/**
 * The claim as the ledger keeps it: the same instant in UTC, to the
 * millisecond, as `Date#toISOString` writes it. A leap second, which a date
 * cannot hold, reads as the last millisecond before it; a finer fraction is
 * cut to milliseconds. Takes only what `timestampSchema` accepted.
 */
export function clientTimestamp(value: string | number): string {
  if (typeof value === 'number') return new Date(value).toISOString();
  const seconds = value.slice(17, 19);
  const text = seconds === '60' ? `${value.slice(0, 17)}59.999${value.slice(19).replace(/^\.\d+/, '')}` : value;
  return new Date(text).toISOString();
}

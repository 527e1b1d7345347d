// Times in queries (a balance's `asOf`, a statement's `from` and `to`):
// RFC 3339 date-times with their offsets, read against the ledger's times,
// which are whole milliseconds since the epoch (`decidedAt`). A time given
// finer than a millisecond falls between two of them, so each comparison takes
// the millisecond on its own side: "at or before asOf" the last millisecond not
// after it, "at or after from" and "before to" the first one not before it.
import { createError, TELLER_ERR_INVALID_DATE_TIME } from '../common/errors.js';
import { RFC3339_DATE_TIME } from './client-timestamp.js';

/** A query's date-time, as the route schemas check it (the calendar too, by the `date-time` format). */
export const dateTimeQuerySchema = { type: 'string', maxLength: 64, format: 'date-time', pattern: RFC3339_DATE_TIME } as const;

/** A date-time as the ledger's milliseconds see it. */
export interface Instant {
  /** The last millisecond not after it: what "decided at or before it" compares with. */
  notAfter: number;
  /** The first millisecond not before it: what "at or after it" and "before it" compare with. */
  notBefore: number;
}

const PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** The latest instant a JavaScript date holds (ECMA-262, Time Values), either way from the epoch. */
const LATEST_DATE_MS = 8_640_000_000_000_000;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * Reads `text` (the query parameter `parameter`), or throws
 * TELLER_ERR_INVALID_DATE_TIME. The route schemas refuse most bad times
 * first; this checks again, so that nothing it returns is a guess. A leap
 * second (`23:59:60` in UTC), which a date cannot hold, lies between the last
 * millisecond of its minute and the first of the next.
 */
export function readDateTime(parameter: string, text: string): Instant {
  const m = PARTS.exec(text.toUpperCase());
  if (!m) throw invalid(parameter);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = m[7] ?? '';
  const offsetMinutes = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  const calendar = month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
  const clock = hour <= 23 && minute <= 59 && second <= 60 && Number(m[9] ?? 0) <= 23 && Number(m[10] ?? 0) <= 59;
  if (!calendar || !clock) throw invalid(parameter);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, Math.min(second, 59), 0);
  const start = date.getTime() - offsetMinutes * MINUTE_MS;
  if (second === 60) {
    // Only the last minute of a UTC day may have one.
    if (mod(start, DAY_MS) !== DAY_MS - MINUTE_MS + 59_000) throw invalid(parameter);
    return checked(parameter, { notAfter: start + 999, notBefore: start + 1000 });
  }
  const exact = start + Number(fraction.slice(0, 3).padEnd(3, '0'));
  const finer = /[1-9]/.test(fraction.slice(3));
  return checked(parameter, { notAfter: exact, notBefore: finer ? exact + 1 : exact });
}

/** `ms` as the api writes times: RFC 3339 in UTC, to the millisecond. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function checked(parameter: string, instant: Instant): Instant {
  if (Math.abs(instant.notAfter) > LATEST_DATE_MS || Math.abs(instant.notBefore) > LATEST_DATE_MS) throw invalid(parameter);
  return instant;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeapYear(year) ? 1 : 0);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function invalid(parameter: string) {
  return createError(TELLER_ERR_INVALID_DATE_TIME, { parameter });
}

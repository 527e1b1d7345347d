// Times in queries (api/date-time.ts): RFC 3339 read to the ledger's
// milliseconds, each comparison taking the millisecond on its own side of a
// finer time, and anything else refused with the parameter named.
import t from 'tap';
import { isoTime, readDateTime } from '../../api/date-time.js';
import { TELLER_ERR_INVALID_DATE_TIME } from '../../common/errors.js';

const at = Date.UTC(2024, 0, 2, 3, 4, 5);

t.test('whole milliseconds: both sides are the instant itself, whatever the offset', async (t) => {
  t.strictSame(readDateTime('asOf', '2024-01-02T03:04:05Z'), { notAfter: at, notBefore: at });
  t.strictSame(readDateTime('asOf', '2024-01-02T04:34:05+01:30'), { notAfter: at, notBefore: at });
  t.strictSame(readDateTime('asOf', '2024-01-01T23:04:05-04:00'), { notAfter: at, notBefore: at });
  t.strictSame(readDateTime('asOf', '2024-01-02t03:04:05.120z'), { notAfter: at + 120, notBefore: at + 120 }, 'either case of T and Z');
  t.strictSame(readDateTime('asOf', '2024-01-02T03:04:05.7Z'), { notAfter: at + 700, notBefore: at + 700 });
  t.strictSame(readDateTime('asOf', '2024-01-02T03:04:05.123000000Z'), { notAfter: at + 123, notBefore: at + 123 }, 'zeros past the millisecond');
});

t.test('finer than a millisecond: the last one not after it, the first one not before it', async (t) => {
  t.strictSame(readDateTime('from', '2024-01-02T03:04:05.1234Z'), { notAfter: at + 123, notBefore: at + 124 });
  t.strictSame(readDateTime('from', '2024-01-02T03:04:05.999000001Z'), { notAfter: at + 999, notBefore: at + 1000 });
  t.strictSame(readDateTime('from', '1969-12-31T23:59:59.9995Z'), { notAfter: -1, notBefore: 0 }, 'before the epoch too');
});

t.test('a leap second lies between the last millisecond of its minute and the next minute', async (t) => {
  const midnight = Date.UTC(2017, 0, 1);
  t.strictSame(readDateTime('asOf', '2016-12-31T23:59:60Z'), { notAfter: midnight - 1, notBefore: midnight });
  t.strictSame(readDateTime('asOf', '2017-01-01T00:59:60.5+01:00'), { notAfter: midnight - 1, notBefore: midnight }, 'the same second, written with an offset');
  t.throws(() => readDateTime('asOf', '2016-12-31T12:59:60Z'), { code: TELLER_ERR_INVALID_DATE_TIME.code }, 'only in the last minute of a UTC day');
});

t.test('years far from now, and the two ends of what a date holds', async (t) => {
  // Date.UTC(1, 0, 1) would be 1901: two-digit years are read as the 1900s.
  t.equal(readDateTime('asOf', '0001-01-01T00:00:00Z').notAfter, -62_135_596_800_000, 'year 1, not 1901');
  t.equal(isoTime(readDateTime('asOf', '0050-06-15T12:00:00Z').notAfter), '0050-06-15T12:00:00.000Z');
  t.equal(isoTime(readDateTime('asOf', '9999-12-31T23:59:59.999Z').notAfter), '9999-12-31T23:59:59.999Z');
  t.equal(readDateTime('asOf', '2024-02-29T00:00:00Z').notAfter, Date.UTC(2024, 1, 29), 'a leap day');
  t.equal(readDateTime('asOf', '2000-02-29T00:00:00Z').notAfter, Date.UTC(2000, 1, 29), 'a leap day of a year divisible by 400');
});

t.test('anything else is refused, naming the parameter', async (t) => {
  const bad = [
    '',
    'now',
    '2024-01-02',
    '2024-01-02T03:04:05',
    '2024-01-02 03:04:05Z',
    '2024-01-02T03:04Z',
    '2024-01-02T03:04:05+0100',
    '2024-01-02T03:04:05.Z',
    '2024-13-01T00:00:00Z',
    '2024-00-01T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-01-02T24:00:00Z',
    '2024-01-02T03:60:00Z',
    '2024-01-02T03:04:61Z',
    '2024-01-02T03:04:05+24:00',
    '2024-01-02T03:04:05+01:60',
    '1704164645000',
  ];
  for (const text of bad) {
    t.throws(() => readDateTime('to', text), { code: TELLER_ERR_INVALID_DATE_TIME.code, details: { parameter: 'to' } }, JSON.stringify(text));
  }
});

// The compatibility route's `timestamp`, as the ledger keeps it: the client's
// instant in UTC, to the millisecond, in the form the message schema takes.
import t from 'tap';
import { clientTimestamp } from '../../api/client-timestamp.js';
import { CLIENT_TIMESTAMP_PATTERN } from '../../common/message.js';

t.test('RFC 3339 strings and epoch milliseconds become the same instant in UTC', async (t) => {
  const cases: [string | number, string][] = [
    ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00.000Z'],
    ['2024-01-01t00:00:00z', '2024-01-01T00:00:00.000Z'],
    ['2024-01-01T01:30:00+01:30', '2024-01-01T00:00:00.000Z'],
    ['2023-12-31T19:00:00.25-05:00', '2024-01-01T00:00:00.250Z'],
    ['2024-01-01T00:00:00.123456789Z', '2024-01-01T00:00:00.123Z'],
    [0, '1970-01-01T00:00:00.000Z'],
    [1_704_067_200_000, '2024-01-01T00:00:00.000Z'],
    ['2016-12-31T23:59:60Z', '2016-12-31T23:59:59.999Z'],
    ['2016-12-31T18:59:60.5-05:00', '2016-12-31T23:59:59.999Z'],
    ['0000-01-01T00:00:00+01:00', '-000001-12-31T23:00:00.000Z'],
    ['9999-12-31T23:59:59-23:59', '+010000-01-01T23:58:59.000Z'],
    [8_640_000_000_000_000, '+275760-09-13T00:00:00.000Z'],
  ];
  for (const [value, iso] of cases) {
    t.equal(clientTimestamp(value), iso, String(value));
    t.match(iso, new RegExp(CLIENT_TIMESTAMP_PATTERN), `${iso}: the form the message takes`);
  }
});

import t from 'tap';
import { TellerError } from '../../common/errors.js';
import { backoffDelay, retry } from '../../common/retry.js';

t.test('doubles the delay up to the cap', async (t) => {
  t.same([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1000)), [100, 200, 400, 800, 1000, 1000]);
  t.equal(backoffDelay(5000, 100, 1000), 1000, 'a huge attempt count does not overflow');
});

t.test('tries again until the work succeeds', async (t) => {
  const failures: number[] = [];
  const result = await retry(
    async (attempt) => {
      if (attempt < 3) throw new Error(`fail ${attempt}`);
      return attempt;
    },
    { what: 'test', firstDelayMs: 1, maxDelayMs: 2, onFailure: (f) => failures.push(f.retryInMs) },
  );
  t.equal(result, 3);
  t.same(failures, [1, 2, 2]);
});

t.test('an error marked not retryable ends the loop at once', async (t) => {
  let tries = 0;
  const fatal = new TellerError({ code: 'TELLER_ERR_TEST', retryable: false }, 'no');
  await t.rejects(
    retry(async () => {
      tries++;
      throw fatal;
    }, { what: 'test', firstDelayMs: 1 }),
    fatal,
  );
  t.equal(tries, 1);
});

t.test('stop() ends the loop with the last error', async (t) => {
  let tries = 0;
  await t.rejects(
    retry(async () => {
      tries++;
      throw new Error(`try ${tries}`);
    }, { what: 'test', firstDelayMs: 1, stop: () => tries >= 2 }),
    { message: 'try 2' },
  );
});

t.test('gives up after giveUpAfterMs', async (t) => {
  const started = Date.now();
  await t.rejects(retry(async () => Promise.reject(new Error('down')), { what: 'test', firstDelayMs: 5, maxDelayMs: 5, giveUpAfterMs: 30 }));
  t.ok(Date.now() - started >= 30);
});

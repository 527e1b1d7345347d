// The statement reader's queue (api/statement.ts): one statement at a time per
// replica, a bounded number waiting, and no call waiting past its deadline.
// The ledger is an in-memory collection whose every query takes `delayMs`.
import t from 'tap';
import { Statements, type LedgerCollection } from '../../api/statement.js';
import { TELLER_ERR_LEDGER_UNAVAILABLE, TELLER_ERR_STATEMENTS_BUSY } from '../../common/errors.js';
import type { LedgerDoc } from '../../common/types.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A ledger whose queries each take `delayMs`, and then fail, as MongoDB does,
 * when that was past their maxTimeMS (MongoDB would fail them sooner).
 */
function slowLedger(delayMs: number) {
  const queries: { accountId: unknown; maxTimeMS: number }[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const collection = {
    find(filter: { accountId: unknown }, options: { maxTimeMS: number }) {
      return {
        async toArray(): Promise<LedgerDoc[]> {
          queries.push({ accountId: filter.accountId, maxTimeMS: options.maxTimeMS });
          running++;
          mostAtOnce = Math.max(mostAtOnce, running);
          try {
            await sleep(delayMs);
            if (delayMs > options.maxTimeMS) throw new Error('operation exceeded time limit');
            return [];
          } finally {
            running--;
          }
        },
      };
    },
  };
  return { collection: collection as unknown as LedgerCollection, queries, mostAtOnce: () => mostAtOnce };
}

async function outcome(page: Promise<unknown>): Promise<string> {
  try {
    await page;
    return 'read';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

t.test('past the queue limit a statement is refused at once; those queued run one at a time', async (t) => {
  const ledger = slowLedger(100);
  const statements = new Statements(ledger.collection, { queueLimit: 2, deadlineMs: 5_000 });
  const started = Date.now();
  const calls = ['a1', 'a2', 'a3', 'a4', 'a5'].map((accountId) => outcome(statements.page(accountId, 10)));
  const refusedFirst = await Promise.race([calls[3]!, calls[4]!]);
  t.equal(refusedFirst, TELLER_ERR_STATEMENTS_BUSY.code, 'a call past the limit is refused');
  t.ok(Date.now() - started < 80, `refused before the first query ended (${Date.now() - started} ms)`);
  t.same(await Promise.all(calls), ['read', 'read', 'read', TELLER_ERR_STATEMENTS_BUSY.code, TELLER_ERR_STATEMENTS_BUSY.code]);
  t.same(ledger.queries.map((q) => q.accountId), ['a1', 'a2', 'a3'], 'the refused ones never queried the ledger, the others in order');
  t.equal(ledger.mostAtOnce(), 1, 'one query at a time');
  t.equal(await outcome(statements.page('a6', 10)), 'read', 'once the queue drained, calls are taken again');
});

t.test('a queue limit of 0: one statement reads, any other is refused', async (t) => {
  const statements = new Statements(slowLedger(20).collection, { queueLimit: 0, deadlineMs: 5_000 });
  const calls = [outcome(statements.page('a1', 10)), outcome(statements.page('a2', 10))];
  t.same(await Promise.all(calls), ['read', TELLER_ERR_STATEMENTS_BUSY.code]);
});

t.test('a call still waiting at its deadline gets 503 and never runs', async (t) => {
  const ledger = slowLedger(400);
  const statements = new Statements(ledger.collection, { queueLimit: 8, deadlineMs: 60 });
  const first = outcome(statements.page('slow', 10));
  const started = Date.now();
  const waiting = await outcome(statements.page('late', 10));
  const waited = Date.now() - started;
  t.equal(waiting, TELLER_ERR_STATEMENTS_BUSY.code, 'refused as busy');
  t.ok(waited >= 55 && waited < 300, `refused at its deadline, not when its turn came (${waited} ms)`);
  t.equal(await first, TELLER_ERR_LEDGER_UNAVAILABLE.code, 'the running one failed its own time limit');
  t.same(ledger.queries.map((q) => q.accountId), ['slow'], 'the late call never queried the ledger');
});

t.test("each query gets what is left of the call's budget, never an unlimited one", async (t) => {
  const ledger = slowLedger(30);
  const statements = new Statements(ledger.collection, { queueLimit: 8, deadlineMs: 1_000 });
  const first = statements.page('first', 10);
  await statements.page('second', 10);
  await first;
  const [firstQuery, secondQuery] = ledger.queries;
  t.ok(firstQuery!.maxTimeMS > 950 && firstQuery!.maxTimeMS <= 1_000, `the first had its whole budget (${firstQuery!.maxTimeMS} ms)`);
  t.ok(secondQuery!.maxTimeMS > 0 && secondQuery!.maxTimeMS <= 975, `the second had its budget less its wait (${secondQuery!.maxTimeMS} ms)`);
});

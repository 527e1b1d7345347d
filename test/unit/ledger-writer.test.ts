// The ledger writer's insert loop, against a collection faked in memory:
// failures are tried again until the insert goes through, documents already
// in the ledger count as inserted, and a stopped writer fails what it holds.
import t from 'tap';
import { MongoBulkWriteError, type BulkWriteResult, type Collection } from 'mongodb';
import { pino } from 'pino';
import type { LedgerDoc } from '../../common/types.js';
import { LedgerWriter, WriterStoppedError } from '../../consumer/ledger-writer.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A collection whose insertMany throws what `failures` holds, one a call, then succeeds. */
function collection(failures: Error[]) {
  const calls: number[] = [];
  const fake = {
    insertMany: async (docs: LedgerDoc[]) => {
      calls.push(docs.length);
      const failure = failures.shift();
      if (failure) throw failure;
      return { acknowledged: true, insertedCount: docs.length, insertedIds: {} };
    },
  };
  return { calls, collection: fake as unknown as Collection<LedgerDoc> };
}

/** What the driver throws when every document of an unordered insert is a duplicate key. */
function duplicates(): MongoBulkWriteError {
  const result = { getWriteConcernError: () => undefined } as unknown as BulkWriteResult;
  return new MongoBulkWriteError({ message: 'E11000 duplicate key', code: 11000, writeErrors: [{ code: 11000 }] } as never, result);
}

const doc = (offset: number) => ({ _id: `0:${offset}`, offset }) as unknown as LedgerDoc;

t.test('a failed insert is tried again until it goes through', async (t) => {
  const { calls, collection: fake } = collection([new Error('not primary'), new Error('timeout')]);
  const writer = new LedgerWriter(fake, 1, log);
  await writer.write([doc(0), doc(1)]);
  t.same(calls, [2, 2, 2], 'three tries of the same documents');
  t.equal(writer.backlog, 0);
});

t.test('documents already in the ledger count as inserted', async (t) => {
  const { calls, collection: fake } = collection([duplicates()]);
  const writer = new LedgerWriter(fake, 1, log);
  await writer.write([doc(0)]);
  t.same(calls, [1], 'not tried again');
});

t.test('a stopped writer fails the inserts it holds with WriterStoppedError', async (t) => {
  const failures = Array.from({ length: 100 }, () => new Error('down'));
  const { calls, collection: fake } = collection(failures);
  const writer = new LedgerWriter(fake, 1, log);
  const written = writer.write([doc(0)]);
  await sleep(150);
  t.ok(calls.length >= 2, 'tried again meanwhile');
  writer.stop();
  await t.rejects(written, WriterStoppedError);
  await t.rejects(writer.write([doc(1)]), WriterStoppedError, 'and refuses more');
  const tries = calls.length;
  await sleep(500);
  t.equal(calls.length, tries, 'no try after the stop');
  const closed = await Promise.race([writer.close().then(() => true), sleep(6000).then(() => false)]);
  t.ok(closed, 'the insert loop ended');
});

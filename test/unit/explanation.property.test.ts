// Property test of explanations over the random logs of the replay property
// tests (test/helpers/replay-log.ts: every kind of message, retries, clock
// jumps, clock markers, transfers with their legs fed back): any record,
// explained from any earlier state the owner was in, gets the outcome the
// owner answered, and the replay writes the ledger's documents again; a lapse
// is explained as the owner wrote it. Records that do not parse (the random
// logs' metadata keys may hold a `.`, which the schema refuses) are dead
// letters to both, and explain nothing.
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual, ok } from 'node:assert/strict';
import { explainRecord, matchesLedger } from '../../consumer/explanation.js';
import { PARTITION, runLive } from '../helpers/explained-log.js';
import { logArb } from '../helpers/replay-log.js';
import { RUNS, windowArb, withLegs } from '../helpers/replay-run.js';

t.test('any record explained from any earlier state gets the answer the owner gave', async (t) => {
  let explained = 0;
  let lapses = 0;
  let repeats = 0;
  await fc.assert(
    fc.asyncProperty(logArb(40), windowArb, fc.nat(), fc.nat(), async (generated, windowMs, pickTarget, pickStart) => {
      const log = withLegs(generated, windowMs);
      const run = runLive(
        log.map((r) => r.msg),
        windowMs,
        log.map((r) => r.timestamp),
      );
      // Every other run, a record that lapsed holds, when the log has one: lapses are rarer than decisions.
      const lapsing = run.documents.flatMap((docs, at) => (docs.some((d) => d.type === 'expire') ? [at] : []));
      const offset = pickTarget % 2 === 0 && lapsing.length > 0 ? lapsing[pickTarget % lapsing.length]! : pickTarget % log.length;
      const start = run.before[pickStart % (offset + 1)]!;
      const records = run.records.slice(start.offset, offset + 1);
      const lapse = run.documents[offset]!.find((d) => d.type === 'expire');
      if (run.outcomes[offset] !== undefined) {
        const ex = await explainRecord({ partition: PARTITION, snapshot: start }, records, { offset }, windowMs, run.lookUp);
        deepStrictEqual(ex.outcome, run.outcomes[offset], `offset ${offset} from ${start.offset}`);
        deepStrictEqual(ex.documents, run.documents[offset]);
        ok(matchesLedger(ex, run.documents[offset]!.find((d) => d._id === `${PARTITION}:${offset}`)));
        explained++;
        if (ex.outcome!.replayed) repeats++;
      }
      if (lapse) {
        const ex = await explainRecord({ partition: PARTITION, snapshot: start }, records, { offset, documentId: lapse._id }, windowMs, run.lookUp);
        deepStrictEqual(ex.lapse, lapse);
        ok(ex.rule === 'hold-lapsed' && ex.holds.some((h) => h.id === lapse.requestId && h.expiresAt <= ex.clock.at));
        lapses++;
      }
    }),
    { numRuns: RUNS },
  );
  t.ok(explained > 0, `decisions explained: ${explained}`);
  t.ok(repeats > 0, `repeats among them: ${repeats}`);
  t.ok(lapses > 0, `lapses explained: ${lapses}`);
});

// The webhooks phase's plan (scripts/benchmark/webhooks-phase.ts): the steps
// it measures, and endpoint ids that no other run's or step's share.
import t from 'tap';
import { endpointIds, WEBHOOK_STEPS } from '../../scripts/benchmark/webhooks-phase.js';
import { ALL_PHASES, PHASES } from '../../scripts/benchmark/bench-options.js';

t.test('0, 1 and 10 endpoints, in a default run', async (t) => {
  t.same([...WEBHOOK_STEPS], [0, 1, 10]);
  t.ok(ALL_PHASES.includes('webhooks'));
  t.ok(PHASES.includes('webhooks'), 'part of a run that names no phases');
});

t.test('endpoint ids: as many as asked, distinct across steps and runs, valid endpoint ids', async (t) => {
  const a = endpointIds('20261129', 2, 10);
  t.equal(a.length, 10);
  t.equal(new Set([...a, ...endpointIds('20261129', 1, 1), ...endpointIds('20261130', 2, 10)]).size, 21);
  for (const id of a) t.match(id, /^[A-Za-z0-9_-]{1,64}$/);
  t.same(endpointIds('x', 0, 0), []);
});

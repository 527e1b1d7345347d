import t from 'tap';
import { oneAtATime } from '../../common/one-at-a-time.js';

t.test('a call made while the work runs is skipped, not run beside it', async (t) => {
  let running = 0;
  let most = 0;
  let runs = 0;
  let release!: () => void;
  const tick = oneAtATime(async () => {
    runs++;
    most = Math.max(most, ++running);
    await new Promise<void>((r) => (release = r));
    running--;
  });
  const first = tick();
  const skipped = await Promise.all([tick(), tick(), tick()]);
  t.same(skipped, [false, false, false], 'the overlapping calls report they did not run');
  release();
  t.equal(await first, true, 'the first call ran the work');
  t.equal(runs, 1);
  t.equal(most, 1, 'never two rounds at once');

  const again = tick();
  release();
  t.equal(await again, true, 'once the round is over, the next call runs');
  t.equal(runs, 2);
});

t.test('a failed round lets the next one run and passes its error on', async (t) => {
  let fail = true;
  const tick = oneAtATime(async () => {
    if (fail) throw new Error('redis down');
  });
  await t.rejects(tick(), /redis down/);
  fail = false;
  t.equal(await tick(), true);
});

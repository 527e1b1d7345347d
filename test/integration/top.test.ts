// `npm run top --once` against the real stack: one frame, taken while deposits
// go through NGINX, names every api replica and consumer, reaches each of them,
// shows every partition owned, and counts the deposits' route and decisions.
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { root } from '../../scripts/stack/paths.js';
import { uniq } from '../helpers/http.js';
import { config, readStack } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

const stack = readStack();

/** Deposits through NGINX, one after another, until `done` resolves; their statuses. */
async function depositUntil(done: Promise<unknown>): Promise<number[]> {
  let finished = false;
  void done.finally(() => (finished = true));
  const statuses: number[] = [];
  const a = uniq('top');
  while (!finished) statuses.push((await v1.deposit(a, { id: `${a}-${statuses.length}`, amount: 1 })).status);
  return statuses;
}

t.test('one frame of the running stack', async (t) => {
  const top = execa(process.execPath, [join(root, 'dist', 'scripts', 'operations', 'top.js'), '--once', '--interval', '2', '--no-color'], { reject: false, timeout: 60_000 });
  const statuses = await depositUntil(top);
  const { exitCode, stdout, stderr } = await top;
  t.equal(exitCode, 0, stderr);
  t.ok(statuses.length > 0 && statuses.every((s) => s === 200), `${statuses.length} deposits answered 200 while top ran`);

  for (const c of stack.components.filter((x) => x.kind === 'api' || x.kind === 'consumer')) {
    t.match(stdout, new RegExp(`^  ${c.name} `, 'm'), `${c.name} has its row`);
  }
  t.notMatch(stdout, /unreachable/, 'every process answered');
  t.match(stdout, new RegExp(`partitions owned ${config.partitions} of ${config.partitions}`), 'every partition owned');
  t.match(stdout, /sends ok; heartbeats taken/, 'Kafka answers the replicas and the consumers');
  const route = /^ {2}POST \/v1\/accounts\/:accountId\/deposits +([\d.]+) +([\d.]+ m?s)$/m.exec(stdout);
  t.ok(route, 'the deposits route with its calls a second and p99');
  t.ok(Number(route?.[1]) > 0, `deposits a second: ${route?.[1]}`);
  const decisions = /^DECISIONS A SECOND BY STATUS {2}total ([\d.]+)$/m.exec(stdout);
  t.ok(Number(decisions?.[1]) > 0, `decisions a second: ${decisions?.[1]}`);
  t.match(stdout, /^ {2}decided applied +[\d.]+$/m, 'calls by outcome');
});

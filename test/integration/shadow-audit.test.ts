// The shadow replay against the real stack (`npm run audit -- --rules`,
// docs/explanations.md), run as the operator runs it: through a module that
// re-exports the ledger's own rules it finds no difference; through a module
// that wraps them and denies every deposit above a bound, it names the
// deposits above it, ours among them, and exits 1. The modules are written
// here, importing the compiled rules, as an operator's would.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import t from 'tap';
import { root } from '../../scripts/stack/paths.js';
import { uniq } from '../helpers/http.js';
import { readStack, waitFor } from '../helpers/stack.js';
import { v1 } from '../helpers/v1.js';

const stack = readStack();
const dir = mkdtempSync(join(tmpdir(), 'teller-shadow-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const compiled = (module: string) => pathToFileURL(join(root, 'dist', 'consumer', module)).href;
/** Deposits above this are denied by the changed rules: far above what the other tests deposit. */
const LARGEST_DEPOSIT = 5_000_000_000;

const sameRules = join(dir, 'same-rules.mjs');
writeFileSync(sameRules, `export { decide } from '${compiled('ledger.js')}';\n`);
const denyLarge = join(dir, 'deny-large-deposits.mjs');
writeFileSync(
  denyLarge,
  `import { decide as ledgerDecide } from '${compiled('ledger.js')}';
import { settle } from '${compiled('ledger-decision.js')}';
export function decide(account, msg, pos, original) {
  if (msg.type === 'deposit' && msg.amount > ${LARGEST_DEPOSIT}) return settle('deposit-out-of-range', msg, pos, account, 'denied', 'balance_out_of_range');
  return ledgerDecide(account, msg, pos, original);
}
`,
);

/** The audit with `--rules`; its report as the JSON it writes. */
async function shadow(rules: string) {
  const json = join(dir, `${uniq('report')}.json`);
  const run = await execa(process.execPath, [join(root, 'dist', 'scripts', 'operations', 'audit.js'), '--rules', rules, '--json', json], {
    reject: false,
    env: { KAFKA_BROKERS: stack.kafkaBrokers.join(','), REDIS_URL: stack.redisUrl, MONGODB_URI: stack.mongoUri },
    // It replays every partition's whole log, as the audit does.
    timeout: 600_000,
  });
  const report = run.exitCode === 2 ? undefined : (JSON.parse(readFileSync(json, 'utf8')) as { differences: { id: string; accountId: string; recorded?: { status: string }; shadow?: { status: string; reason?: string } }[] });
  return { run, report };
}

t.test('a small deposit and a large one, decided', async (t) => {
  const a = uniq('shadow');
  const small = uniq('small');
  const large = uniq('large');
  t.equal((await v1.deposit(a, { id: small, amount: 10 })).status, 200);
  t.equal((await v1.deposit(a, { id: large, amount: LARGEST_DEPOSIT + 1 })).status, 200);
  // The shadow replay compares with the ledger, which follows the answers by a few milliseconds.
  await waitFor(async () => (await v1.statement(a)).body?.data?.length === 2, { what: 'both deposits in the ledger', timeoutMs: 20_000 });

  const same = await shadow(sameRules);
  t.not(same.run.exitCode, 1, `the ledger's own rules: ${same.run.stdout.split('\n').slice(-2).join(' ')}`);
  t.not(same.run.exitCode, 2, same.run.stderr);
  t.same(same.report?.differences, [], 'no document differs');

  const changed = await shadow(denyLarge);
  t.equal(changed.run.exitCode, 1, 'differences: exit 1');
  const ours = changed.report!.differences.filter((d) => d.accountId === a);
  t.equal(ours.length, 1, 'one document of this account differs');
  t.match(ours, [{ id: large, recorded: { status: 'applied' }, shadow: { status: 'denied', reason: 'balance_out_of_range' } }], 'the large deposit, and only it, on this account');
  t.match(changed.run.stdout, new RegExp(`DIFFERS ${large} on ${a}`));
  t.notMatch(changed.run.stdout, new RegExp(`DIFFERS ${small} `));
});

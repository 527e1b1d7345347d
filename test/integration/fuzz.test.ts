// A schema-driven fuzz run against /openapi.json through NGINX: schemathesis
// (from PyPI; .ci/run installs it into .cache/venv) generates valid and
// invalid calls for every operation, bounded in examples and time. No call may
// get a 5xx, every answer must be what the document says it can be, and every
// call the document does not allow must be refused (test/fixtures/schemathesis.toml).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import t from 'tap';
import { baseUrl, paths } from '../helpers/stack.js';
import { call } from '../helpers/v1.js';

/** The ids of the webhook endpoints registered now. */
async function webhookIds(): Promise<Set<string>> {
  const r = await call('GET', '/v1/webhooks');
  return new Set(r.status === 200 ? (r.body.data as { id: string }[]).map((e) => e.id) : []);
}

/** SCHEMATHESIS, else the venv .ci/run makes, else one on PATH. */
function findSchemathesis(): string | undefined {
  const candidates = [process.env.SCHEMATHESIS, join(paths.cache, 'venv', 'bin', 'schemathesis')].filter((c): c is string => Boolean(c));
  for (const c of candidates) if (existsSync(c)) return c;
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'schemathesis'))) return join(dir, 'schemathesis');
  return undefined;
}

const schemathesis = findSchemathesis();
// Beyond "no 5xx": answers conform to the document, and invalid input is refused.
// Not checked: positive_data_acceptance (a valid-looking call may be refused by a rule no
// schema can say: an id reused, a cursor this api did not make) and unsupported_method
// (NGINX answers TRACE itself).
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'response_headers_conformance',
  'negative_data_rejection',
  'missing_required_header',
];

interface Report {
  seed: number;
  test_cases: { generated: number; with_failures: number };
  failures: unknown[];
  errors: { title: string; count: number }[];
  phases: Record<string, { status: string }>;
}

t.test(
  'schemathesis finds no 5xx and nothing the document does not allow',
  // In CI a missing schemathesis is a failure (.ci/run installs it); elsewhere the run is skipped.
  { skip: schemathesis || process.env.CI ? false : 'schemathesis is not installed (.ci/run installs it into .cache/venv; or set SCHEMATHESIS)' },
  async (t) => {
    if (!schemathesis) {
      t.fail('schemathesis is not installed: .ci/run installs it into .cache/venv');
      return;
    }
    const out = mkdtempSync(join(tmpdir(), 'teller-fuzz-'));
    const reportFile = join(out, 'report.json');
    const args = [
      // Which statuses refuse a request the document does not allow: Teller's, not schemathesis's default list.
      '--config-file',
      fileURLToPath(new URL('../fixtures/schemathesis.toml', import.meta.url)),
      'run',
      `${baseUrl}/openapi.json`,
      '--checks',
      CHECKS.join(','),
      '--max-examples',
      '25',
      '--max-time',
      '90',
      '--workers',
      '2',
      '--request-timeout',
      '10',
      '--phases',
      'examples,coverage,fuzzing',
      '--generation-database',
      'none',
      '--no-color',
      '--report',
      'json',
      '--report-json-path',
      reportFile,
    ];
    // The fuzzer registers webhook endpoints at whatever URLs it makes up: they are deleted after the run,
    // so the dispatcher does not keep a consumer and retries for each, and later tests find room for theirs.
    const endpointsBefore = await webhookIds();
    t.teardown(async () => {
      for (const id of await webhookIds()) if (!endpointsBefore.has(id)) await call('DELETE', `/v1/webhooks/${encodeURIComponent(id)}`);
    });
    // Run in the scratch folder: schemathesis keeps a cache of crashes in its working directory.
    const run = await execa(schemathesis, args, { cwd: out, reject: false, timeout: 300_000, all: true, env: { SCHEMATHESIS_TELEMETRY: 'false' } });
    t.ok(existsSync(reportFile), `schemathesis wrote its report (exit ${run.exitCode})`);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
    const output = run.all ?? '';
    const tail = output.split('\n').slice(-60).join('\n');
    // The report names the operation only; the output's FAILURES section has each request, as a curl command.
    const failuresAt = output.indexOf('FAILURES');
    const failures = failuresAt >= 0 ? output.slice(failuresAt, failuresAt + 8000) : tail;
    // The seed is read from the output: the report's number is past what a double holds exactly.
    const seed = /Seed: (\d+)/.exec(output)?.[1] ?? String(report.seed);
    t.comment(`seed ${seed}: ${report.test_cases.generated} calls; phases ${JSON.stringify(report.phases)}`);
    t.ok(report.test_cases.generated >= 200, `${report.test_cases.generated} calls generated`);
    t.same(report.failures, [], `no failure\n${report.failures.length > 0 ? failures : ''}`);
    // A generator error inside schemathesis (not an answer of ours) is shown, not failed on.
    if (report.errors.length > 0) t.comment(`schemathesis errors: ${JSON.stringify(report.errors)}`);
    const ran = Object.values(report.phases).some((p) => p.status === 'success');
    t.ok(ran, `at least one phase ran to the end${ran ? '' : `\n${tail}`}`);
  },
);

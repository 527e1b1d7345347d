// The NGINX config rendered from nginx/nginx.conf.template: every placeholder
// filled, one upstream server per api replica, and NGINX itself accepts it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execaSync } from 'execa';
import t from 'tap';
import { readConfig } from '../../common/config.js';
import { prepareNginx, render, renderNginxConf } from '../../scripts/stack/nginx-component.js';
import { ensureDir, pathsFor, root } from '../../scripts/stack/paths.js';

const config = readConfig({ API_REPLICAS: '3', API_BASE_PORT: '4101', TELLER_PORT: '18080' });

t.test('render fills placeholders and refuses unknown ones', async (t) => {
  t.equal(render('a {{X}} b {{X}}', { X: '1' }), 'a 1 b 1');
  t.throws(() => render('{{MISSING}}', {}), /MISSING/);
});

t.test('the rendered config', async (t) => {
  const run = mkdtempSync(join(tmpdir(), 'teller-nginx-'));
  const conf = renderNginxConf(config, pathsFor({ ...config, runDir: run }));
  t.notMatch(conf, /\{\{/, 'no placeholder left');
  t.same(conf.match(/server 127\.0\.0\.1:\d+/g), ['server 127.0.0.1:4101', 'server 127.0.0.1:4102', 'server 127.0.0.1:4103']);
  t.match(conf, /listen 127\.0\.0\.1:18080/);
  for (const directive of ['least_conn;', 'keepalive 1024;', 'keepalive_timeout 60s;', 'keepalive_timeout 65s;', 'client_max_body_size 16k;', 'worker_processes 1;']) {
    t.ok(conf.includes(directive), directive);
  }
});

/** The number a directive is given in a config (the first time it appears). */
function directive(conf: string, name: string): number {
  const m = new RegExp(`^\\s*${name} (\\d+)`, 'm').exec(conf);
  if (!m) throw new Error(`no ${name}`);
  return Number(m[1]);
}

t.test('1,000 client connections fit, and keep their connections to the replicas', async (t) => {
  const clients = 1000;
  for (const file of ['nginx.conf.template', 'compose.conf']) {
    const conf = readFileSync(join(root, 'nginx', file), 'utf8');
    const kept = directive(conf, 'keepalive');
    t.ok(kept >= clients, `${file}: ${kept} idle upstream connections kept, enough for ${clients} clients`);
    // A proxied call holds a client and an upstream connection; idle upstream ones count too.
    t.ok(directive(conf, 'worker_connections') >= 2 * clients + kept, `${file}: worker_connections holds them all`);
  }
});

t.test("a replica's 503 goes to the client as it is: not intercepted, not retried on another replica", async (t) => {
  const proxy = readFileSync(join(root, 'nginx', 'proxy.conf'), 'utf8');
  const active = proxy.split('\n').filter((line) => !line.trim().startsWith('#')).join('\n');
  t.notMatch(active, /proxy_intercept_errors\s+on/, 'upstream answers are not replaced by error_page');
  const next = /proxy_next_upstream ([^;]+);/.exec(active)?.[1]?.split(/\s+/) ?? [];
  t.same(next, ['error', 'non_idempotent'], 'only a replica that cannot be reached is skipped');
  t.notOk(next.some((c) => c.startsWith('http_')), 'no answer status sends the call on');
  const readTimeout = /proxy_read_timeout (\d+)s;/.exec(active)?.[1];
  for (const env of [{}, { KAFKA_NODES: '3' }]) {
    const config = readConfig(env);
    t.ok(Number(readTimeout) * 1000 > config.decisionTimeoutMs + config.producerSendTimeoutMs, `NGINX waits longer than a replica takes to answer a write (${config.kafkaBrokers.length} broker(s))`);
  }
});

const hasNginx = (() => {
  try {
    execaSync('nginx', ['-v']);
    return true;
  } catch {
    return false;
  }
})();

t.test('nginx -t accepts it', { skip: hasNginx ? false : 'nginx is not installed' }, async (t) => {
  const run = mkdtempSync(join(tmpdir(), 'teller-nginx-'));
  const paths = pathsFor({ ...config, runDir: run });
  ensureDir(paths.logs);
  await t.resolves(prepareNginx(config, paths));
});

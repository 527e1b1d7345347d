// The NGINX config rendered from nginx/nginx.conf.template: every placeholder
// filled, one upstream server per api replica, and NGINX itself accepts it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execaSync } from 'execa';
import t from 'tap';
import { readConfig } from '../../common/config.js';
import { prepareNginx, render, renderNginxConf } from '../../scripts/stack/nginx-component.js';
import { ensureDir, pathsFor } from '../../scripts/stack/paths.js';

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
  for (const directive of ['least_conn;', 'keepalive 256;', 'keepalive_timeout 60s;', 'keepalive_timeout 65s;', 'client_max_body_size 16k;', 'worker_processes 1;']) {
    t.ok(conf.includes(directive), directive);
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

// NGINX's rate limit as rendered from the configuration: off by default (every
// local client is 127.0.0.1), a zone and a limit per client address when
// RATE_LIMIT_RPS is set, and NGINX accepts both configs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execaSync } from 'execa';
import t from 'tap';
import { readConfig } from '../../common/config.js';
import { prepareNginx, renderNginxConf } from '../../scripts/stack/nginx-component.js';
import { ensureDir, pathsFor } from '../../scripts/stack/paths.js';

function paths() {
  const p = pathsFor({ ...readConfig({}), runDir: mkdtempSync(join(tmpdir(), 'teller-nginx-rl-')) });
  ensureDir(p.logs);
  return p;
}

const hasNginx = (() => {
  try {
    execaSync('nginx', ['-v']);
    return true;
  } catch {
    return false;
  }
})();

t.test('off by default', async (t) => {
  const config = readConfig({});
  const conf = renderNginxConf(config, paths());
  t.notMatch(conf, /limit_req/, 'no limit_req directive');
  t.match(conf, /RATE_LIMIT_RPS=0/);
});

t.test('a zone per client address and a limit with its burst', async (t) => {
  const config = readConfig({ RATE_LIMIT_RPS: '50', RATE_LIMIT_BURST: '20' });
  const conf = renderNginxConf(config, paths());
  t.match(conf, /limit_req_zone \$binary_remote_addr zone=teller_clients:10m rate=50r\/s;/);
  t.match(conf, /limit_req zone=teller_clients burst=20 nodelay;/);
  t.match(conf, /limit_req_status 429;/);
});

t.test('invalid values stop the configuration', async (t) => {
  t.throws(() => readConfig({ RATE_LIMIT_RPS: '-1' }), /RATE_LIMIT_RPS/);
  t.throws(() => readConfig({ RATE_LIMIT_BURST: 'lots' }), /RATE_LIMIT_BURST/);
});

t.test('nginx -t accepts both', { skip: hasNginx ? false : 'nginx is not installed' }, async (t) => {
  await t.resolves(prepareNginx(readConfig({}), paths()));
  await t.resolves(prepareNginx(readConfig({ RATE_LIMIT_RPS: '5', RATE_LIMIT_BURST: '0' }), paths()));
});

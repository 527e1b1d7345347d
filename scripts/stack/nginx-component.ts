// NGINX from Debian's package, run in the foreground with a config rendered
// from nginx/nginx.conf.template into .run/.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Config } from '../../common/config.js';
import { ensureDir, type Paths } from './paths.js';
import type { ComponentSpec } from './supervisor.js';

/** Replaces every {{NAME}}; a placeholder left without a value is an error, not an empty string. */
export function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nginx template: no value for {{${name}}}`);
    return value;
  });
}

export function apiPorts(config: Config): number[] {
  return Array.from({ length: config.apiReplicas }, (_, i) => config.apiBasePort + i);
}

export function renderNginxConf(config: Config, paths: Paths): string {
  const template = readFileSync(join(paths.root, 'nginx', 'nginx.conf.template'), 'utf8');
  // A replica that failed is left alone for 2 s, about as long as its restart takes.
  const servers = apiPorts(config)
    .map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`)
    .join('\n');
  const limited = config.rateLimitRps > 0;
  return render(template, {
    RUN_DIR: paths.run,
    LOG_DIR: paths.logs,
    NGINX_DIR: join(paths.root, 'nginx'),
    TELLER_HOST: config.host,
    TELLER_PORT: String(config.port),
    UPSTREAM_SERVERS: servers,
    RATE_LIMIT_ZONE: limited ? `  limit_req_zone $binary_remote_addr zone=teller_clients:10m rate=${config.rateLimitRps}r/s;` : '  # (off: RATE_LIMIT_RPS=0)',
    // Refusals are logged at info, below error_log's level: a flood must not flood the log too.
    RATE_LIMIT: limited
      ? `    limit_req zone=teller_clients${config.rateLimitBurst > 0 ? ` burst=${config.rateLimitBurst}` : ''} nodelay;\n    limit_req_status 429;\n    limit_req_log_level info;`
      : '',
  });
}

function nginxArgs(paths: Paths): string[] {
  const prefix = ensureDir(join(paths.run, 'nginx'));
  // -e: errors before the config is read go to stderr too, not to a logs/ folder under the prefix.
  return ['-p', prefix, '-e', 'stderr', '-c', join(paths.run, 'nginx.conf')];
}

/** Renders the config and checks it, so a mistake is reported with NGINX's own message before anything starts. */
export async function prepareNginx(config: Config, paths: Paths): Promise<void> {
  writeFileSync(join(paths.run, 'nginx.conf'), renderNginxConf(config, paths));
  const check = await execa('nginx', [...nginxArgs(paths), '-t', '-q'], { reject: false, stdin: 'ignore', all: true });
  if (check.exitCode !== 0) throw new Error(`nginx rejected ${join(paths.run, 'nginx.conf')}: ${check.all ?? check.message}`);
}

export function nginxSpec(config: Config, paths: Paths): ComponentSpec {
  return {
    name: 'nginx',
    command: 'nginx',
    args: [...nginxArgs(paths), '-g', 'daemon off;'],
    cwd: paths.root,
    logFile: join(paths.logs, 'nginx.log'),
    pidFile: join(paths.pids, 'nginx.pid'),
    port: config.port,
    stopTimeoutMs: 10_000,
    restart: true,
  };
}

// docker-compose.yml cannot run here (no Docker engine), so its structure is
// checked instead: the services and images, the replicas, a healthcheck on
// every service, and that the api and consumer are configured only through
// names common/config.ts actually reads.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { root } from '../../scripts/stack/paths.js';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string> | string[];
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}

// Compose files use YAML merge keys (<<: *anchor) for the shared environment.
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

/** Every 'NAME' literal in config.ts: the environment variables it reads. */
const configNames = new Set([...readFileSync(join(root, 'common', 'config.ts'), 'utf8').matchAll(/'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));

function envOf(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** Variables a service's command sets inline, e.g. REPLICA_ID="..." exec node ... */
function commandNames(s: Service): string[] {
  const command = Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? '');
  return [...command.matchAll(/\b([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!);
}

t.test('config.ts was parsed', async (t) => {
  for (const name of ['KAFKA_BROKERS', 'MONGODB_URI', 'REDIS_URL', 'API_PORT', 'REPLICA_ID', 'CONSUMER_ID']) t.ok(configNames.has(name), name);
});

t.test('the services and their official images', async (t) => {
  t.match(services.kafka?.image, /^apache\/kafka:3\.9\.1$/);
  t.match(services.mongo?.image, /^mongo:7(\.|$)/);
  t.match(services.redis?.image, /^redis:7(\.|$)/);
  t.match(services.nginx?.image, /^nginx:(stable|mainline|\d)/);
  for (const name of ['api', 'consumer', 'topics', 'webhooks']) t.ok(services[name]?.build, `${name} is built from the Dockerfile`);
});

t.test('api and consumer run three replicas', async (t) => {
  t.equal(services.api?.deploy?.replicas, 3);
  t.equal(services.consumer?.deploy?.replicas, 3);
});

t.test('every service has a healthcheck', async (t) => {
  for (const [name, s] of Object.entries(services)) {
    const test = s.healthcheck?.test;
    t.ok(Array.isArray(test) ? test.length > 1 : typeof test === 'string' && test.length > 0, `${name} has a healthcheck command`);
  }
});

t.test('api, consumer, topics and webhooks use only the environment names config.ts reads', async (t) => {
  for (const name of ['api', 'consumer', 'topics', 'webhooks']) {
    const s = services[name]!;
    const names = [...Object.keys(envOf(s)), ...commandNames(s)];
    t.ok(names.length > 0, `${name} is configured`);
    for (const env of names) t.ok(configNames.has(env), `${name}: ${env} is read by common/config.ts`);
  }
});

t.test('api and consumer are pointed at the compose services', async (t) => {
  for (const name of ['api', 'consumer']) {
    const env = envOf(services[name]!);
    t.equal(env.KAFKA_BROKERS, 'kafka:9092', `${name} KAFKA_BROKERS`);
    t.match(env.MONGODB_URI, /^mongodb:\/\/mongo:27017\//, `${name} MONGODB_URI`);
    t.match(env.REDIS_URL, /^redis:\/\/redis:6379/, `${name} REDIS_URL`);
    t.same(Object.keys(services[name]!.depends_on ?? {}).sort(), ['mongo', 'redis', 'topics'], `${name} waits for its dependencies`);
  }
  t.equal(envOf(services.api!).TELLER_HOST, '0.0.0.0', 'the api listens on the container network');
});

t.test('NGINX proxies to the api service with the mounted configs', async (t) => {
  const apiPort = envOf(services.api!).API_PORT;
  const mounts = (services.nginx?.volumes ?? []).map((v) => v.split(':')[0]!);
  for (const file of mounts) t.ok(existsSync(join(root, file)), `${file} exists`);
  const conf = readFileSync(join(root, 'nginx', 'compose.conf'), 'utf8');
  t.match(conf, new RegExp(`server api:${apiPort}\\b`), `upstream is api:${apiPort}`);
  t.match(conf, /keepalive 1024;/);
  t.equal(services.nginx?.depends_on?.api?.condition, 'service_healthy');
});

t.test('the Dockerfile is multi-stage and runs as a non-root user', async (t) => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  t.ok(stages.length >= 2, 'at least two stages');
  const user = stages.at(-1)!.match(/^USER (\S+)/m)?.[1];
  t.ok(user !== undefined && user !== 'root' && user !== '0', `the runtime stage runs as ${user}`);
});

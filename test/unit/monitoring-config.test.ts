// The monitoring of docker-compose.yml, checked by reading (no Docker engine
// here): Prometheus discovers every replica of the api and consumer services on
// the ports they serve metrics on, Grafana is provisioned with that Prometheus
// and the dashboard, both are published on loopback only, and no password is
// written in the repository.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { root } from '../../scripts/stack/paths.js';
import { DASHBOARD_FILE, MONITORING_DIR, panelsOf, readDashboard } from '../../scripts/operations/monitoring/dashboard-queries.js';

interface Service {
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  deploy?: { replicas?: number };
}
interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  dns_sd_configs?: Array<{ names: string[]; type: string; port: number }>;
}

const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const services = (parse(composeText, { merge: true }) as { services: Record<string, Service> }).services;
const prometheus = parse(readFileSync(join(MONITORING_DIR, 'prometheus.yml'), 'utf8')) as { scrape_configs: ScrapeConfig[] };
const datasources = parse(readFileSync(join(MONITORING_DIR, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
  datasources: Array<{ uid: string; type: string; url: string }>;
};
const providers = parse(readFileSync(join(MONITORING_DIR, 'grafana/provisioning/dashboards/teller.yml'), 'utf8')) as {
  providers: Array<{ type: string; options: { path: string } }>;
};

/** The host side of each bind mount, relative to the root, by its target in the container. */
function mounts(s: Service): Map<string, string> {
  const binds = (s.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => v.split(':'));
  return new Map(binds.map(([host, target]) => [target!, relative(root, join(root, host!))]));
}

t.test('Prometheus scrapes every replica of the api and of the consumer, on their metrics ports', async (t) => {
  const job = (service: string) => prometheus.scrape_configs.find((c) => c.dns_sd_configs?.some((d) => d.names.includes(service)));
  const expected = { api: Number(services.api!.environment!.API_PORT), consumer: Number(services.consumer!.environment!.CONSUMER_METRICS_PORT) };
  for (const [service, port] of Object.entries(expected)) {
    const config = job(service);
    t.ok(config, `a job discovers the ${service} service`);
    t.ok((services[service]!.deploy?.replicas ?? 1) > 1, `${service} has replicas: one address each, so discovery by DNS, not a static target`);
    t.strictSame(config?.dns_sd_configs, [{ names: [service], type: 'A', port, refresh_interval: '15s' }], `${service}: every A record, port ${port}`);
    t.equal(config?.metrics_path, '/metrics');
  }
  t.equal(services.consumer!.environment!.TELLER_HOST, '0.0.0.0', "the consumers' metrics port listens on the container network, where Prometheus reaches it");
  t.notOk(services.consumer!.ports, 'and is not published on the host');
});

t.test('Prometheus and Grafana: official images at a fixed version, published on loopback only', async (t) => {
  t.match(services.prometheus?.image, /^prom\/prometheus:v\d+\.\d+\.\d+$/);
  t.match(services.grafana?.image, /^grafana\/grafana:\d+\.\d+\.\d+$/);
  t.strictSame(services.prometheus?.ports, ['127.0.0.1:9090:9090']);
  t.strictSame(services.grafana?.ports, ['127.0.0.1:3000:3000']);
  for (const name of ['prometheus', 'grafana']) {
    for (const [target, host] of mounts(services[name]!)) t.ok(existsSync(join(root, host)), `${name}: ${host} (mounted at ${target}) exists`);
  }
  t.equal(mounts(services.prometheus!).get('/etc/prometheus/prometheus.yml'), 'scripts/operations/monitoring/prometheus.yml');
});

t.test("Grafana's datasource is the compose Prometheus, and the dashboards are the repository's", async (t) => {
  const grafana = services.grafana!;
  t.strictSame(
    datasources.datasources.map((d) => [d.uid, d.type, d.url]),
    [['teller-prometheus', 'prometheus', 'http://prometheus:9090']],
  );
  const uids = new Set(panelsOf(readDashboard()).filter((p) => p.type !== 'row').map((p) => p.datasource?.uid));
  t.strictSame([...uids], ['teller-prometheus'], "every panel reads the provisioned datasource's uid");
  const dashboardsPath = providers.providers[0]!.options.path;
  t.equal(mounts(grafana).get(dashboardsPath), relative(root, join(DASHBOARD_FILE, '..')), 'the provider reads the mounted dashboards folder');
  t.equal(mounts(grafana).get('/etc/grafana/provisioning'), 'scripts/operations/monitoring/grafana/provisioning');
  t.equal(grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, `${dashboardsPath}/teller.json`, 'the home page is the Teller dashboard');
});

t.test('Grafana: anonymous viewers, and the admin password from the environment', async (t) => {
  const env = services.grafana!.environment!;
  t.equal(env.GF_AUTH_ANONYMOUS_ENABLED, 'true');
  t.equal(env.GF_AUTH_ANONYMOUS_ORG_ROLE, 'Viewer', 'anonymous visitors may only look');
  t.match(composeText, /GF_SECURITY_ADMIN_PASSWORD: \$\{GRAFANA_ADMIN_PASSWORD:-admin\}/, 'read from GRAFANA_ADMIN_PASSWORD, with a default for a local try-out');
});

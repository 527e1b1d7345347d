// The Grafana dashboard's queries and the metric names they chart, so that the
// tests can hold every charted name against what the api replicas and
// consumers expose (test/unit/dashboard-metrics.test.ts against the metric
// modules, test/integration/dashboard-metrics.test.ts against a running stack).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricNamesOf } from '../../shared/promql-metric-names.js';
import { root } from '../../stack/paths.js';

/** Prometheus's and Grafana's configuration for docker-compose.yml. */
export const MONITORING_DIR = join(root, 'scripts', 'operations', 'monitoring');
export const DASHBOARD_FILE = join(MONITORING_DIR, 'grafana', 'dashboards', 'teller.json');

export interface DashboardPanel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ refId?: string; expr?: string; datasource?: { type?: string; uid?: string } }>;
  /** A collapsed row keeps its panels inside it. */
  panels?: DashboardPanel[];
}

export interface Dashboard {
  uid?: string;
  title?: string;
  panels?: DashboardPanel[];
}

export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
}

export function readDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Every panel, those inside rows included. */
export function panelsOf(dashboard: Dashboard): DashboardPanel[] {
  const walk = (panels: DashboardPanel[]): DashboardPanel[] => panels.flatMap((p) => [p, ...walk(p.panels ?? [])]);
  return walk(dashboard.panels ?? []);
}

/** Every PromQL query of every panel. */
export function dashboardQueries(dashboard: Dashboard): PanelQuery[] {
  return panelsOf(dashboard).flatMap((panel) =>
    (panel.targets ?? []).filter((t) => typeof t.expr === 'string').map((t) => ({ panel: panel.title ?? `panel ${panel.id}`, refId: t.refId ?? '', expr: t.expr! })),
  );
}

/** Each metric name the dashboard charts, with the titles of the panels that chart it. */
export function chartedMetrics(dashboard: Dashboard): Map<string, string[]> {
  const charted = new Map<string, string[]>();
  for (const { panel, expr } of dashboardQueries(dashboard)) {
    for (const name of metricNamesOf(expr)) charted.set(name, [...new Set([...(charted.get(name) ?? []), panel])]);
  }
  return charted;
}

/** The charted names that no exposition shows, each with its panels: what would chart nothing. */
export function unexposed(charted: Map<string, string[]>, exposed: ReadonlySet<string>): Array<{ metric: string; panels: string[] }> {
  return [...charted].filter(([metric]) => !exposed.has(metric)).map(([metric, panels]) => ({ metric, panels }));
}

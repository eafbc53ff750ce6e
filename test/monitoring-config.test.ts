import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@cistern/config';
import { createTestDatabase, createTestRedisPrefix, freePort, makeTempDir, removeDir, TEST_REDIS_URL, type TestDatabase } from '@cistern/testkit';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ROOT, startProcess, waitForReady, type Started } from './processes.ts';

// deploy/: the Grafana dashboard and the Prometheus alert rules name only metrics that a real
// Cistern (`npm start`) exports, and Prometheus scrapes the three services where they listen.

const redis = createTestRedisPrefix();
let db: TestDatabase;
let dataDir: string;
let run: Started;
/** Metric family names from the `# TYPE` lines of a real /metrics, with their types. */
const families = new Map<string, string>();

beforeAll(async () => {
  [db, dataDir] = await Promise.all([createTestDatabase(), makeTempDir('monitoring')]);
  const env = {
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    API_PORT: String(await freePort()),
    REGISTRY_PORT: String(await freePort()),
    WORKER_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  run = startProcess('scripts/start-all.ts', env);
  await waitForReady(`http://127.0.0.1:${env.API_PORT}/readyz`, { of: run });
  const text = await (await fetch(`http://127.0.0.1:${env.API_PORT}/metrics`)).text();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(match[1] ?? '', match[2] ?? '');
}, 90_000);
afterAll(async () => {
  if (run && run.child.exitCode === null) {
    run.child.kill('SIGTERM');
    await run.exited;
  }
  await db?.drop();
  await redis.cleanup();
  await removeDir(dataDir);
});

/** Series names a family exposes: a histogram's `_bucket`, `_sum` and `_count`, a summary's `_sum` and `_count`. */
function exported(name: string): boolean {
  if (families.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const type = families.get(base);
  return (type === 'histogram' && base !== name) || (type === 'summary' && !name.endsWith('_bucket') && base !== name);
}

/** Metrics Prometheus makes itself for every target. */
const PROMETHEUS_OWN = new Set(['up']);

/** The metric names a PromQL expression selects; throws on a syntax error or a selector without a name. */
function metricNames(expr: string): string[] {
  // Grafana's own variables, as a range.
  const promql = expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
  const names: string[] = [];
  parser.parse(promql).iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`PromQL syntax error at ${node.from} in: ${expr}`);
      if (node.name !== 'VectorSelector') return;
      const identifier = node.node.getChild('Identifier');
      if (!identifier) throw new Error(`a selector names no metric in: ${expr}`);
      names.push(promql.slice(identifier.from, identifier.to));
    },
  });
  return names;
}

/** The names in `exprs` that Cistern does not export, each once. */
function unknownMetrics(exprs: string[]): string[] {
  const names = exprs.flatMap(metricNames);
  return [...new Set(names.filter((name) => !exported(name) && !PROMETHEUS_OWN.has(name)))].sort();
}

const readDeploy = (file: string) => readFile(path.join(ROOT, 'deploy', file), 'utf8');

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr: string; datasource?: { uid: string } }[];
}

describe('monitoring configuration', () => {
  it('reads metric families from a real Cistern', () => {
    // The process defaults and the catalog's base, so an empty scrape cannot pass the checks below.
    expect(families.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
    expect(families.get('process_resident_memory_bytes')).toBe('gauge');
    expect(exported('nodejs_gc_duration_seconds_bucket')).toBe(true);
    expect(exported('process_resident_memory_bytes_bucket')).toBe(false);
  });

  it('Grafana dashboard: parses, takes its data source as a variable, and every query names a metric Cistern exports', async () => {
    const dashboard = JSON.parse(await readDeploy('grafana/cistern.json')) as {
      uid: string;
      panels: Panel[];
      templating: { list: { name: string; type: string; query: unknown }[] };
    };
    expect(dashboard.uid).toBe('cistern');
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    const queried = panels.filter((p) => p.type !== 'row');
    expect(queried.length).toBeGreaterThanOrEqual(20);
    for (const panel of queried) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe('${datasource}');
    }
    const variables = dashboard.templating.list;
    expect(variables.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    // A variable's label_values(metric, label) names a metric too.
    const variableMetrics = variables.flatMap((v) => {
      const query = typeof v.query === 'object' && v.query !== null ? (v.query as { query: string }).query : String(v.query);
      const match = /^label_values\((\w+),\s*\w+\)$/.exec(query);
      return match ? [match[1] ?? ''] : [];
    });
    expect(variableMetrics).toEqual(['cistern_repository_last_sync_success_timestamp_seconds']);

    const exprs = queried.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(unknownMetrics([...exprs, ...variableMetrics])).toEqual([]);
  });

  it('alert rules: stale mirror, failing syncs and rate-limit headroom, on metrics Cistern exports', async () => {
    const alerts = parseYaml(await readDeploy('prometheus/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const rules = alerts.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(['CisternMirrorStale', 'CisternSyncsFailing', 'CisternRateLimitLow', 'CisternTargetDown']);
    expect(unknownMetrics(rules.map((r) => r.expr))).toEqual([]);
  });

  it("Prometheus's own tool accepts the config and the rules, and the rules fire as their unit tests say (alerts.test.yml)", async () => {
    const promtool = (...args: string[]) => promisify(execFile)('promtool', args, { cwd: path.join(ROOT, 'deploy/prometheus') });
    // Syntax only: the rule file's path is the one compose mounts it at.
    await promtool('check', 'config', '--syntax-only', 'prometheus.yml');
    expect((await promtool('check', 'rules', 'alerts.yml')).stdout).toContain('SUCCESS: 4 rules found');
    expect((await promtool('test', 'rules', 'alerts.test.yml')).stdout).toContain('SUCCESS');
  });

  it('Prometheus scrapes the api, worker and registry services on their default ports, with the alert rules compose mounts', async () => {
    const config = parseYaml(await readDeploy('prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; authorization?: { credentials_file?: string }; static_configs: { targets: string[] }[] }[];
    };
    const { ports } = loadConfig({});
    expect(config.scrape_configs.map((c) => [c.job_name, c.static_configs.flatMap((s) => s.targets)])).toEqual([
      ['cistern-api', [`api:${ports.api}`]],
      ['cistern-worker', [`worker:${ports.worker}`]],
      ['cistern-registry', [`registry:${ports.registry}`]],
    ]);
    // METRICS_TOKEN reaches Prometheus as a file the compose service writes (empty when unset).
    const compose = await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    for (const c of config.scrape_configs) {
      expect(c.authorization?.credentials_file).toBe('/prometheus/metrics-token');
      expect(compose).toContain(`> ${c.authorization?.credentials_file} &&`);
    }
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(compose).toContain('./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
  });

  it('Grafana provisioning: the Prometheus data source and a provider for the directory compose mounts the dashboard in', async () => {
    const datasources = parseYaml(await readDeploy('grafana/provisioning/datasources/prometheus.yml')) as { datasources: { type: string; url: string }[] };
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })]);
    const providers = parseYaml(await readDeploy('grafana/provisioning/dashboards/cistern.yml')) as { providers: { options: { path: string } }[] };
    const dir = providers.providers[0]?.options.path;
    const compose = await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(`./deploy/grafana/cistern.json:${dir}/cistern.json:ro`);
  });
});

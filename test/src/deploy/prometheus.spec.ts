/**
 * Prometheus and Grafana files (deploy/), offline: `promtool check config` on both scrape configs,
 * `promtool check rules` and `promtool test rules` (each alert fires on the input meant to trigger it,
 * with its labels and annotations), every alert documented in deploy/RUNBOOK.md, every dashboard
 * panel's PromQL parsed by promtool, dashboards templated by namespace and instance, generated files
 * up to date. The live check (real Prometheus scraping the services) is monitoring-live.spec.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, concrete, dashboards, queryPanels, runOk, tool, yamlDoc } from './deploy-tools';

/* eslint-disable @typescript-eslint/no-explicit-any -- dashboards and rule files are untyped JSON/YAML */
type Obj = Record<string, any>;

const PROM = join(ROOT, 'deploy', 'prometheus');
const GRAFANA = join(ROOT, 'deploy', 'grafana');
const PROMTOOL_HINT = 'install Debian\'s `prometheus` package (it ships promtool): `apt-get install --no-install-recommends prometheus`, or `bash scripts/deploy/tools.sh`';

const promtool = () => tool('promtool', PROMTOOL_HINT);
const ruleFiles = () => readdirSync(join(PROM, 'rules')).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(PROM, 'rules', f));
const alerts = (): Obj[] => ruleFiles().flatMap((f) => (yamlDoc<Obj>(readFileSync(f, 'utf8')).groups as Obj[]).flatMap((g) => g.rules as Obj[]).filter((r) => r.alert));

describe('prometheus: scrape configs, alerting rules, dashboards (offline)', () => {
  it('promtool check config: the compose scrape config and its rule files', () => {
    const out = runOk(promtool(), ['check', 'config', join(PROM, 'prometheus.yml')]);
    assert.match(out, /SUCCESS/);
  });

  it('promtool check config: the kubernetes_sd example (SD block swapped: Debian builds Prometheus without kubernetes_sd)', () => {
    // Debian's prometheus 2.42 is compiled without Kubernetes service discovery, so promtool
    // rejects `kubernetes_sd_configs`; everything else (relabelling, rules) is checked as written.
    const text = readFileSync(join(PROM, 'prometheus.kubernetes.yml'), 'utf8');
    const swapped = text.replace(/kubernetes_sd_configs:\n(\s+)- role: pod\n(?:\1  .*\n)+/, 'static_configs:\n$1- targets: ["127.0.0.1:8081"]\n');
    assert.notEqual(swapped, text, 'kubernetes_sd_configs block not found');
    const dir = mkdtempSync(join(tmpdir(), 'seqrec-prom-'));
    try {
      writeFileSync(join(dir, 'prometheus.yml'), swapped);
      symlinkSync(join(PROM, 'rules'), join(dir, 'rules'));
      assert.match(runOk(promtool(), ['check', 'config', join(dir, 'prometheus.yml')]), /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('promtool check rules', () => {
    const out = runOk(promtool(), ['check', 'rules', ...ruleFiles()]);
    assert.doesNotMatch(out, /FAILED/);
  });

  it('promtool test rules: every alert fires on its input, with the expected labels and annotations', () => {
    const tests = readdirSync(join(PROM, 'tests')).filter((f) => f.endsWith('.test.yml')).map((f) => join(PROM, 'tests', f));
    assert.ok(tests.length > 0);
    runOk(promtool(), ['test', 'rules', ...tests]);
    const tested = new Set(
      tests.flatMap((f) => (yamlDoc<Obj>(readFileSync(f, 'utf8')).tests as Obj[]).flatMap((t) => ((t.alert_rule_test ?? []) as Obj[]).filter((a) => a.exp_alerts?.length).map((a) => a.alertname as string))),
    );
    assert.deepEqual(alerts().map((a) => a.alert as string).filter((a) => !tested.has(a)), [], 'alerts without a firing test');
  });

  it('every alert has a severity and a runbook section, and every runbook section an alert', () => {
    const runbook = readFileSync(join(ROOT, 'deploy', 'RUNBOOK.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^### (\S+)/gm)].map((m) => m[1]!.toLowerCase()));
    const names = alerts().map((a) => a.alert as string);
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
    for (const a of alerts()) {
      assert.match(a.labels?.severity ?? '', /^(critical|warning|info)$/, `${a.alert}: severity`);
      assert.ok(a.annotations?.summary && a.annotations?.description, `${a.alert}: summary and description`);
      assert.equal(a.annotations?.runbook, `deploy/RUNBOOK.md#${a.alert.toLowerCase()}`, `${a.alert}: runbook link`);
      assert.ok(anchors.has(a.alert.toLowerCase()), `${a.alert}: no "### ${a.alert}" section in deploy/RUNBOOK.md`);
    }
    assert.deepEqual([...anchors].filter((x) => !names.some((n) => n.toLowerCase() === x)), [], 'runbook sections without an alert');
  });

  it('generated files are up to date (dashboards, PrometheusRule)', () => {
    runOk(process.execPath, [join(ROOT, 'scripts', 'deploy', 'dashboards.mjs'), '--check']);
    runOk(process.execPath, [join(ROOT, 'scripts', 'deploy', 'prometheus-rule.mjs'), '--check']);
  });

  it('dashboards: overview, one per service, model quality; templated by namespace and instance', () => {
    const all = dashboards();
    const uids = all.map((d) => d.json.uid as string);
    for (const uid of ['seqrec-overview', 'seqrec-ingester', 'seqrec-sequence-builder', 'seqrec-embedding', 'seqrec-scorer', 'seqrec-trainer', 'seqrec-model']) {
      assert.ok(uids.includes(uid), `dashboard ${uid}`);
    }
    assert.equal(new Set(uids).size, uids.length, 'unique uids');
    for (const { file, json } of all) {
      const vars = (json.templating.list as Obj[]).map((v) => v.name as string);
      // the experiments dashboard also picks the experiment
      assert.deepEqual(vars, ['datasource', 'namespace', 'instance', ...(json.uid === 'seqrec-experiments' ? ['experiment'] : [])], `${file}: variables`);
      const ids = new Set<number>();
      for (const p of json.panels as Obj[]) {
        assert.ok(!ids.has(p.id), `${file}: duplicate panel id ${p.id}`);
        ids.add(p.id);
        assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${file}: ${p.title} wider than the grid`);
      }
      for (const p of queryPanels(json)) {
        assert.equal(p.datasource?.uid, '${datasource}', `${file}: ${p.title}: datasource variable`);
        assert.ok(p.targets.length > 0, `${file}: ${p.title}: no query`);
        for (const t of p.targets as Obj[]) {
          assert.match(t.expr, /namespace=~"\$namespace"/, `${file}: ${p.title}: filter on $namespace`);
          assert.match(t.expr, /instance=~"\$instance"/, `${file}: ${p.title}: filter on $instance`);
        }
      }
    }
  });

  it('every panel query is valid PromQL (parsed by promtool as recording rules)', () => {
    const rules = dashboards().flatMap(({ file, json }) =>
      queryPanels(json).flatMap((p) => (p.targets as Obj[]).map((t, i) => ({ record: `panel:${json.uid}:${p.id}:${i}`.replace(/-/g, '_'), expr: concrete(t.expr), where: `${file}: ${p.title}` }))),
    );
    const dir = mkdtempSync(join(tmpdir(), 'seqrec-panels-'));
    try {
      const file = join(dir, 'panels.yml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'panels', rules: rules.map(({ record, expr }) => ({ record, expr })) }] }));
      runOk(promtool(), ['check', 'rules', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Grafana provisioning: the Prometheus data source and the dashboards folder compose mounts', () => {
    const ds = yamlDoc<Obj>(readFileSync(join(GRAFANA, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'));
    assert.equal(ds.datasources[0].type, 'prometheus');
    const provider = yamlDoc<Obj>(readFileSync(join(GRAFANA, 'provisioning', 'dashboards', 'seqrec.yml'), 'utf8'));
    const path = provider.providers[0].options.path as string;
    const compose = readFileSync(join(ROOT, 'deploy', 'compose.yaml'), 'utf8');
    assert.ok(compose.includes(`./grafana/dashboards:${path}`), `compose mounts the dashboards at ${path}`);
  });
});

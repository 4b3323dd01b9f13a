#!/usr/bin/env node
// Writes k8s/components/prometheus-operator/prometheusrule.yaml from deploy/prometheus/rules/*.yml
// (one PrometheusRule per rule file; the file's `groups:` is the resource's spec), so the
// Prometheus Operator gets exactly the rules promtool checks.
//   node scripts/deploy/prometheus-rule.mjs           write it
//   node scripts/deploy/prometheus-rule.mjs --check   exit 1 if it is out of date
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const rulesDir = join(root, 'deploy', 'prometheus', 'rules');
const out = join(root, 'k8s', 'components', 'prometheus-operator', 'prometheusrule.yaml');

// the version label of every seqrec object (k8s/base/kustomization.yaml)
const VERSION = /app\.kubernetes\.io\/version: "([^"]+)"/.exec(readFileSync(join(root, 'k8s', 'base', 'kustomization.yaml'), 'utf8'))[1];

const docs = readdirSync(rulesDir)
  .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
  .sort()
  .map((file) => {
    const body = readFileSync(join(rulesDir, file), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n')
      .trim();
    if (!body.startsWith('groups:')) throw new Error(`${file}: expected the file to start with "groups:"`);
    const name = `seqrec-${file.replace(/\.ya?ml$/, '')}`;
    return [
      `# Generated from deploy/prometheus/rules/${file} by scripts/deploy/prometheus-rule.mjs: edit that file, then re-run.`,
      'apiVersion: monitoring.coreos.com/v1',
      'kind: PrometheusRule',
      'metadata:',
      `  name: ${name}`,
      '  labels:',
      `    app.kubernetes.io/name: ${name}`,
      '    app.kubernetes.io/component: monitoring',
      '    app.kubernetes.io/part-of: seqrec',
      `    app.kubernetes.io/version: "${VERSION}"`,
      'spec:',
      ...body.split('\n').map((line) => (line ? `  ${line}` : line)),
    ].join('\n');
  });
const text = `${docs.join('\n---\n')}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {
    // missing
  }
  if (current !== text) {
    console.error(`${out} is out of date: run node scripts/deploy/prometheus-rule.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}

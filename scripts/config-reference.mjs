#!/usr/bin/env node
// The configuration reference, generated from the env specs the services validate at start-up
// (name, default, description: one source per fact). Renders docs/configuration.md between
//   <!-- config:begin --> ... <!-- config:end -->
// from the built libraries (run `npm run build` first).
// Usage: node scripts/config-reference.mjs           rewrite docs/configuration.md
//        node scripts/config-reference.mjs --check   exit 1 when it is not current (npm run lint)
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { renderSections } from './lib/generated.mjs';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const load = (rel, name) => {
  const mod = require(join(root, rel));
  if (!mod[name]) throw new Error(`${rel} exports no ${name}`);
  return mod[name];
};

// Which specs each group of processes validates (the apps' BootstrapOptions.env, plus commonEnv and
// the HTTP server's, which every service takes).
const GROUPS = [
  ['Every service', [['libs/platform/config/dist/env.js', 'commonEnv'], ['libs/platform/nest-platform/dist/server.env.js', 'httpServerEnv'], ['libs/platform/nest-platform/dist/server.env.js', 'authEnv']]],
  ['ingester (and embedded)', [['libs/pipeline/ingest/dist/ingest.env.js', 'ingestEnv']]],
  ['sequence-builder (and embedded)', [['libs/pipeline/sequence-builder/dist/sequencing.env.js', 'sequencingEnv']]],
  ['embedded only (the demo feed of `npm start`)', [['apps/embedded/dist/demo/demo.env.js', 'demoEnv']]],
  ['trainer (and embedded)', [['libs/ml/training/dist/training.env.js', 'trainingEnv'], ['libs/ml/datasets/dist/registry.js', 'datasetsEnv']]],
  ['trainer, embedding, scorer and the CLIs (TensorFlow.js)', [['libs/ml/model/dist/backend.env.js', 'backendEnv']]],
  ['embedding (and embedded)', [['libs/serving/embedding/dist/embedding.env.js', 'embeddingEnv']]],
  ['scorer (and embedded)', [['libs/serving/scoring/dist/scoring.env.js', 'scoringEnv']]],
  ['the models CLI (`npm run models`)', [['libs/ml/training/dist/cli/models.env.js', 'modelsCliEnv']]],
  ['the experiments CLI (`npm run experiments`)', [['libs/serving/experiments/dist/cli/experiments.env.js', 'experimentsCliEnv']]],
  ['both operator CLIs', [['libs/platform/config/dist/env.js', 'operatorCliEnv']]],
];
// Embedded mode (`npm start`) takes every group above; these specs replace some of their defaults there.
const OVERRIDES = ['embedded: its own defaults of the variables above', [['apps/embedded/dist/demo/demo.env.js', 'embeddedDefaults']]];

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
function defaultOf(spec) {
  if (!('default' in spec) || spec.default === undefined) return 'required';
  if (spec.default === '') return 'empty';
  return `\`${cell(spec.default)}\``;
}

// The two ports come from each app's bootstrap (its defaultPort), not from a shared spec.
const PORTS = [
  '| `HTTP_PORT` | 8081 ingester, 8082 sequence-builder, 8083 embedding, 8084 trainer, 8080 scorer and embedded | port of the API and the health routes |',
  '| `METRICS_PORT` | `HTTP_PORT` + 1000 | port of `GET /metrics`, nothing else is served there (a scorer\'s workers share it, and any answers for all) |',
];

function table() {
  const seen = new Map();
  const out = [];
  for (const [title, specs] of GROUPS) {
    out.push(`### ${title}`, '', '| variable | default | meaning |', '| --- | --- | --- |');
    if (title === 'Every service') out.push(...PORTS);
    for (const [rel, name] of specs) {
      for (const [key, spec] of Object.entries(load(rel, name))) {
        if (seen.has(key)) {
          // the same spec spread into several services' env (backendEnv) is one fact; two specs are not
          if (seen.get(key).spec === spec) continue;
          throw new Error(`${key} is specified twice (${seen.get(key).name} and ${name}): one source per fact`);
        }
        seen.set(key, { name, spec });
        if (!spec.desc) throw new Error(`${key} (${name}) has no desc: every variable is documented where it is specified`);
        const choices = spec.choices ? ` (one of ${spec.choices.map((c) => `\`${c}\``).join(', ')})` : '';
        const dev = spec.devDefault !== undefined && spec.devDefault !== spec.default ? `; outside production \`${cell(spec.devDefault)}\`` : '';
        out.push(`| \`${key}\` | ${defaultOf(spec)}${dev} | ${cell(spec.desc)}${choices} |`);
      }
    }
    out.push('');
  }
  const [title, specs] = OVERRIDES;
  out.push(`### ${title}`, '', '| variable | default in embedded | meaning |', '| --- | --- | --- |');
  for (const [rel, name] of specs) {
    for (const [key, spec] of Object.entries(load(rel, name))) {
      if (!seen.has(key)) throw new Error(`${key} (${name}) overrides no variable of the services`);
      out.push(`| \`${key}\` | ${defaultOf(spec)} | ${cell(spec.desc)} |`);
    }
  }
  return out.join('\n').trimEnd();
}

renderSections(join(root, 'docs', 'configuration.md'), { config: table }, '`npm run build && node scripts/config-reference.mjs`');

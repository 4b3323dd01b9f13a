#!/usr/bin/env node
// Generated parts of the README, so they cannot drift from the code:
//   <!-- libraries:begin --> ... <!-- libraries:end -->   the libraries by layer, from each
//     library's package.json (folder, name, "description", type tag)
// Usage: node scripts/readme-gen.mjs          rewrite README.md
//        node scripts/readme-gen.mjs --check  exit 1 when README.md is not current (npm run lint)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderSections } from './lib/generated.mjs';

const root = new URL('..', import.meta.url).pathname;
const README = join(root, 'README.md');
// lowest layer first, as in eslint.config.mjs
const LAYERS = [
  ['core', 'what every service agrees on; depends on nothing'],
  ['platform', 'infrastructure: configuration, metrics, the bus, Kafka, Redis, Nest wiring'],
  ['pipeline', 'the live path from a click to a window'],
  ['ml', 'data, models, training and the artifacts training writes'],
  ['serving', 'what answers requests: user vectors and scores'],
];

function librariesTable() {
  const rows = ['| layer | library | package | type | what it holds |', '| --- | --- | --- | --- | --- |'];
  for (const [layer, what] of LAYERS) {
    const dir = join(root, 'libs', layer);
    const libs = readdirSync(dir).filter((d) => existsSync(join(dir, d, 'package.json'))).sort();
    libs.forEach((lib, i) => {
      const pkg = JSON.parse(readFileSync(join(dir, lib, 'package.json'), 'utf8'));
      if (!pkg.description) throw new Error(`libs/${layer}/${lib}/package.json: no "description"`);
      const type = (pkg.nx?.tags ?? []).find((t) => t.startsWith('type:'))?.slice(5) ?? '';
      const layerCell = i === 0 ? `**${layer}**: ${what}` : '';
      rows.push(`| ${layerCell} | [\`libs/${layer}/${lib}\`](libs/${layer}/${lib}) | \`${pkg.name}\` | ${type} | ${pkg.description.replace(/\|/g, '\\|')} |`);
    });
  }
  return rows.join('\n');
}

renderSections(README, { libraries: librariesTable }, '`node scripts/readme-gen.mjs`');

#!/usr/bin/env node
// Runs the compiled test files of one layer with node's test runner.
//   unit: **/dist/**/*.spec.js except *.int.spec.js   (no I/O, run in parallel),
//         and scripts/**/*.spec.mjs                   (the repository's own tools, plain JS)
//   int:  libs/**/dist/**/*.int.spec.js                (real Kafka/Redis, one file at a time)
//   e2e:  test/dist/**/*.spec.js except test/dist/faults (whole pipeline as processes, one at a time)
//   faults: test/dist/faults/*.spec.js                 (the fault suite, on its own Kafka and Redis:
//                                                        run it through scripts/faults.sh)
// Usage: node scripts/run-tests.mjs unit|int|e2e|faults [extra node --test flags]
//   SEQREC_TEST_FILTER=<substring>: only the files whose path contains it
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const layer = process.argv[2];
const extra = process.argv.slice(3);
if (!['unit', 'int', 'e2e', 'faults'].includes(layer)) {
  console.error('usage: run-tests.mjs unit|int|e2e|faults');
  process.exit(2);
}

function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const inDist = (p) => p.split('/').includes('dist');
let files;
const faultsDir = join(root, 'test', 'dist', 'faults');
if (layer === 'e2e') {
  files = walk(join(root, 'test', 'dist')).filter((p) => p.endsWith('.spec.js') && !p.startsWith(`${faultsDir}/`));
} else if (layer === 'faults') {
  files = walk(faultsDir).filter((p) => p.endsWith('.spec.js'));
} else {
  files = [...walk(join(root, 'libs')), ...walk(join(root, 'apps')), ...walk(join(root, 'bench'))].filter((p) => inDist(p) && p.endsWith('.spec.js'));
  files = files.filter((p) => (layer === 'int') === p.endsWith('.int.spec.js'));
  if (layer === 'unit') files.push(...walk(join(root, 'scripts')).filter((p) => p.endsWith('.spec.mjs')));
}
files.sort();
if (process.env.SEQREC_TEST_FILTER) files = files.filter((p) => relative(root, p).includes(process.env.SEQREC_TEST_FILTER));
if (files.length === 0) {
  console.error(`no ${layer} test files found: run \`npm run build\` first`);
  process.exit(1);
}
console.log(`${layer}: ${files.length} test files\n${files.map((f) => `  ${relative(root, f)}`).join('\n')}`);
const concurrency = layer === 'unit' ? [] : ['--test-concurrency=1'];
const res = spawnSync(process.execPath, ['--test', ...concurrency, ...extra, ...files], { stdio: 'inherit', cwd: root });
process.exit(res.status ?? 1);

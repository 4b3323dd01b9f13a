#!/usr/bin/env node
// The tree is the architecture: checks what ESLint cannot see (run by `npm run lint`).
//   - every library sits at libs/<scope>/<name>, and <scope> is one of the layers and equals the
//     library's `scope:` tag (package.json "nx.tags"); nothing else lives in libs/ or its scopes;
//   - every app, test and bench project carries a scope tag that names a layer or `system`;
//   - no production barrel (a library's src/index.ts) re-exports its test helpers: those are
//     imported through a `<package>/testing` entry point instead.
// The layers and which may import which are in eslint.config.mjs.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const LAYERS = ['core', 'platform', 'pipeline', 'ml', 'serving'];
const problems = [];
const isDir = (p) => existsSync(p) && statSync(p).isDirectory();
const tags = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).nx?.tags ?? [];
const scopeOf = (dir) => tags(dir).filter((t) => t.startsWith('scope:')).map((t) => t.slice('scope:'.length));

for (const scope of readdirSync(join(root, 'libs'))) {
  const scopeDir = join(root, 'libs', scope);
  if (!isDir(scopeDir)) continue;
  if (!LAYERS.includes(scope)) {
    problems.push(`libs/${scope}: not a layer (${LAYERS.join(', ')}): a library belongs in libs/<layer>/<name>`);
    continue;
  }
  if (existsSync(join(scopeDir, 'package.json'))) problems.push(`libs/${scope}: a library directly under libs/; move it into libs/<layer>/`);
  for (const name of readdirSync(scopeDir)) {
    const dir = join(scopeDir, name);
    if (!isDir(dir)) continue;
    if (!existsSync(join(dir, 'package.json'))) {
      problems.push(`libs/${scope}/${name}: no package.json (only libraries live in a layer folder)`);
      continue;
    }
    const scopes = scopeOf(dir);
    if (scopes.length !== 1 || scopes[0] !== scope) problems.push(`libs/${scope}/${name}: tagged scope:${scopes.join(', scope:') || '(none)'}, its folder says scope:${scope}`);
    const barrel = join(dir, 'src', 'index.ts');
    if (existsSync(barrel) && /from '\.\/testing(\/index)?'/.test(readFileSync(barrel, 'utf8'))) {
      problems.push(`libs/${scope}/${name}/src/index.ts re-exports its test helpers: export them as '<package>/testing' instead`);
    }
  }
}
const others = [...readdirSync(join(root, 'apps')).map((a) => join('apps', a)), 'test', 'bench'];
for (const rel of others) {
  const dir = join(root, rel);
  if (!existsSync(join(dir, 'package.json'))) continue;
  const scopes = scopeOf(dir);
  if (scopes.length !== 1 || ![...LAYERS, 'system'].includes(scopes[0])) problems.push(`${rel}: needs one scope tag naming a layer or system (has ${scopes.join(', ') || 'none'})`);
}

if (problems.length > 0) {
  console.error(`layout: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('layout: every library in its layer folder, tags match, no test helpers in barrels');

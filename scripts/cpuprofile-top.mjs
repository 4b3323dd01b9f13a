#!/usr/bin/env node
// Summarises V8 .cpuprofile files (node --cpu-prof): self time by function and by package.
// Usage: node scripts/cpuprofile-top.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, nArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpuprofile-top.mjs FILE.cpuprofile [N]');
  process.exit(2);
}
const n = Number(nArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((node) => [node.id, node]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFn = new Map();
const byPkg = new Map();
for (const [id, us] of self) {
  const { callFrame: cf } = byId.get(id);
  const url = cf.url || '(native)';
  const fn = `${cf.functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(libs|apps)\//, '$1/')}:${cf.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  const pkg = m ? m[1] : /\/(libs|apps)\/([^/]+)/.test(url) ? url.replace(/^.*\/(libs|apps)\/([^/]+)\/.*$/, '$1/$2') : url.startsWith('node:') ? 'node-internal' : cf.functionName.startsWith('(') ? cf.functionName : 'other';
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us);
}
const show = (title, map) => {
  console.log(`\n${title} (total ${(total / 1e6).toFixed(2)} s)`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
};
show('self time by package', byPkg);
show('self time by function', byFn);

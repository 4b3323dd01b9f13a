#!/usr/bin/env node
// Summarises a V8 sampling heap profile (.heapprofile; bench:score BENCH_HEAP_PROF=1): bytes
// allocated by function (self) and by package. With collected objects included (as heap-sample
// records them) this is the allocation volume behind the GC work, not what stays live.
// Usage: node scripts/heapprofile-top.mjs FILE.heapprofile [N] [requests]
import { readFileSync } from 'node:fs';

const [file, nArg, reqArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: heapprofile-top.mjs FILE.heapprofile [N] [requests]');
  process.exit(2);
}
const n = Number(nArg ?? 25);
const requests = reqArg ? Number(reqArg) : 0;
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byFn = new Map();
const byPkg = new Map();
let total = 0;
const where = (cf) => (cf.url || '(native)').replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(libs|apps|bench)\//, '$1/').replace(/^\/.*\/(libs|apps|bench)\//, '$1/');
const walk = (node) => {
  const cf = node.callFrame;
  const size = node.selfSize;
  if (size > 0) {
    total += size;
    const fn = `${cf.functionName || '(anonymous)'} ${where(cf)}:${cf.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + size);
    const url = cf.url || '';
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const pkg = m ? m[1] : /\/(libs|apps|bench)\/([^/]+)/.test(url) ? url.replace(/^.*\/(libs|apps|bench)\/([^/]+)\/.*$/, '$1/$2') : url.startsWith('node:') ? 'node-internal' : url === '' ? `(${cf.functionName || 'native'})` : 'other';
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + size);
  }
  for (const c of node.children ?? []) walk(c);
};
walk(prof.head);
const fmt = (b) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} KB`);
const show = (title, map) => {
  console.log(`\n${title} (total ${fmt(total)}${requests ? `, ${fmt(total / requests)} per request over ${requests}` : ''})`);
  for (const [k, b] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${((100 * b) / total).toFixed(1).padStart(5)}%  ${fmt(b).padStart(9)}${requests ? `  ${fmt(b / requests).padStart(9)}/req` : ''}  ${k}`);
  }
};
show('allocated by package', byPkg);
show('allocated by function (self)', byFn);

const { initBackend, createEncoder, tf } = require('@seqrec/model');
(async () => {
  await initBackend();
  const enc = createEncoder({ kind: 'sasrec', numItems: 50000, dim: 64, maxLen: 50, blocks: 2, heads: 1, dropout: 0, seed: 3 });
  const hs = Array.from({ length: 8 }, () => Int32Array.from({ length: 40 }, () => 1 + Math.floor(Math.random() * 50000)));
  await enc.topK(hs, 20); await enc.topK(hs, 20);
  const info = await tf.profile(async () => { await enc.topK(hs, 20); });
  const by = new Map();
  for (const k of info.kernels) { const t = await k.kernelTimeMs; const v = by.get(k.name) || { n: 0, ms: 0 }; v.n++; v.ms += (typeof t === 'number' ? t : 0); by.set(k.name, v); }
  const rows = [...by].sort((a, b) => b[1].ms - a[1].ms);
  let total = 0; for (const [, v] of rows) total += v.ms;
  console.log('kernels', info.kernels.length, 'total kernel ms', total.toFixed(2));
  for (const [n, v] of rows.slice(0, 15)) console.log(n.padEnd(22), String(v.n).padStart(4), v.ms.toFixed(2));
  let t = performance.now(); for (let i = 0; i < 20; i++) await enc.topK(hs, 20); console.log('wall per topK B=8', ((performance.now() - t) / 20).toFixed(2));
})();

const { initBackend, createEncoder, tf } = require('@seqrec/model');
(async () => {
  await initBackend();
  const enc = createEncoder({ kind: 'sasrec', numItems: 50000, dim: 64, maxLen: 50, blocks: 2, heads: 1, dropout: 0, seed: 3 });
  const h = () => Int32Array.from({ length: 40 }, () => 1 + Math.floor(Math.random() * 50000));
  for (const B of [1, 8, 16, 64]) {
    const hs = Array.from({ length: B }, h);
    await enc.topK(hs, 20);
    let t = performance.now(); for (let i = 0; i < 10; i++) await enc.topK(hs, 20); const tk = (performance.now() - t) / 10;
    t = performance.now(); for (let i = 0; i < 10; i++) { const e = enc.encode(hs); await e.data(); e.dispose(); } const te = (performance.now() - t) / 10;
    t = performance.now(); for (let i = 0; i < 10; i++) { await enc.scoreItems(hs, hs); } const ts = (performance.now() - t) / 10;
    console.log(`B=${B} topK ${tk.toFixed(2)} ms, encode ${te.toFixed(2)} ms, scoreItems ${ts.toFixed(2)} ms`);
  }
  const m = tf.randomNormal([64, 50001]); const u = tf.randomNormal([16, 64]);
  let t = performance.now(); for (let i = 0; i < 10; i++) { const s = tf.matMul(u, m); const k = tf.topk(s, 21); await k.values.data(); tf.dispose([s, k.values, k.indices]); }
  console.log('matmul+topk B=16', ((performance.now() - t) / 10).toFixed(2));
})();

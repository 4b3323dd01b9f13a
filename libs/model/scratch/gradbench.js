const m = require('./out/model/src/index.js');
const tf = m.tf;
(async () => {
  await m.initBackend(process.argv[2] || 'wasm');
  const time = (name, f, reps = 3) => { tf.tidy(f); const t0 = performance.now(); for (let i = 0; i < reps; i++) tf.tidy(() => { const r = f(); r.forEach(t => t.dataSync()); }); const ms = (performance.now() - t0) / reps; console.log(name, ms.toFixed(0), 'ms'); };
  const M = 14000, N = 3416, d = 50;
  const h = tf.randomNormal([M, d]), E = tf.randomNormal([N, d], 0, 0.1), lab = tf.randomUniform([M], 0, N, 'int32');
  const unfused = tf.grads((h, E) => m.softmaxCrossEntropy(m.mm(h, tf.transpose(E)), lab));
  const fused = tf.grads((h, E) => m.fullSoftmaxCrossEntropy(h, E, lab));
  const g1 = unfused([h, E]), g2 = fused([h, E]);
  console.log('max grad diff', tf.max(tf.abs(tf.sub(g1[0], g2[0]))).dataSync()[0], tf.max(tf.abs(tf.sub(g1[1], g2[1]))).dataSync()[0]);
  for (let r = 0; r < 2; r++) { time('unfused CE fwd+bwd', () => unfused([h, E])); time('fused CE fwd+bwd', () => fused([h, E])); }
  const B = 128, L = 200;
  const q = tf.randomNormal([B, L, d]), k = tf.randomNormal([B, d, L]);
  const loop = tf.grads((q, k) => tf.sum(m.mm(q, k)));
  const batched = tf.grads((q, k) => tf.sum(tf.matMul(q, k)));
  for (let r = 0; r < 2; r++) { time('loop bmm fwd+bwd', () => loop([q, k])); time('batched bmm fwd+bwd', () => batched([q, k])); }
})();

const m = require('./out/model/src/index.js');
const tf = m.tf;
(async () => {
  await m.initBackend(process.argv[2] || 'wasm');
  const time = (name, f, reps = 3) => { tf.tidy(f); const t0 = performance.now(); for (let i = 0; i < reps; i++) tf.tidy(() => { const r = f(); (Array.isArray(r)?r:[r]).forEach(t => t.dataSync()); }); const ms = (performance.now() - t0) / reps; console.log(name, ms.toFixed(0), 'ms'); };
  const loopMM = (a, b) => { const bs = tf.unstack(b); return tf.stack(tf.unstack(a).map((x, i) => tf.matMul(x, bs[i]))); };
  const bmm = tf.customGrad((a, b, save) => { save([a, b]); return { value: loopMM(a, b), gradFunc: (dy, [a, b]) => [loopMM(dy, tf.transpose(b, [0, 2, 1])), loopMM(tf.transpose(a, [0, 2, 1]), dy)] }; });
  const B = 128, L = 200, d = 50;
  const q = tf.randomNormal([B, L, d]), k = tf.randomNormal([B, d, L]);
  const g1 = tf.grads((q, k) => tf.sum(tf.matMul(q, k)))([q, k]);
  const g2 = tf.grads((q, k) => tf.sum(bmm(q, k)))([q, k]);
  console.log('diff', tf.max(tf.abs(tf.sub(g1[0], g2[0]))).dataSync()[0]);
  const custom = tf.grads((q, k) => tf.sum(bmm(q, k)));
  const loop = tf.grads((q, k) => tf.sum(m.mm(q, k)));
  const batched = tf.grads((q, k) => tf.sum(tf.matMul(q, k)));
  for (let r = 0; r < 2; r++) { time('custom bmm fwd+bwd', () => custom([q, k])); time('loop bmm fwd+bwd', () => loop([q, k])); time('batched bmm fwd+bwd', () => batched([q, k])); time('fwd loop', () => loopMM(q, k)); time('fwd batched', () => tf.matMul(q, k));  time('sum', () => tf.sum(tf.matMul(q, k)));}
})();

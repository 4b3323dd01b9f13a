const { initBackend, createEncoder, trainModel } = require('@seqrec/model');
(async () => {
  const b = await initBackend(); console.log(b.name);
  const ITEMS = 30;
  const CHAIN = Array.from({ length: 300 }, (_, u) => Int32Array.from({ length: 12 }, (_, j) => ((u + j) % ITEMS) + 1));
  const enc = createEncoder({ kind: 'sasrec', numItems: 30, dim: 16, maxLen: 10, blocks: 1, dropout: 0, seed: 1 });
  let t = Date.now();
  await trainModel(enc, { train: CHAIN }, { epochs: 8, batchSize: 64, lr: 0.01, loss: 'softmax' });
  console.log('train ms', Date.now() - t);
  const a = Int32Array.from([4, 5, 6, 11]); const d = Int32Array.from([8]);
  console.log((await enc.topK([a], 2)).map(r => Array.from(r.items)));
  console.log((await enc.topK([a, d], 2)).map(r => Array.from(r.items)));
  console.log((await enc.topK([d, a], 2)).map(r => Array.from(r.items)));
})();

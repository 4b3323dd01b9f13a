const m = require('./out/model/src/index.js');
const { markovSplit } = require('./out/model/src/testing.js');
(async () => {
  await m.initBackend(process.argv[2] || 'cpu');
  const split = markovSplit({ numItems: 100, users: 400, minLen: 15, maxLen: 30 });
  const kind = process.argv[3] || 'sasrec';
  const enc = m.createEncoder({ kind, numItems: 100, dim: 32, maxLen: 30, blocks: 1, dropout: 0.1 });
  const t0 = Date.now();
  const rep = await m.trainModel(enc, split, { epochs: 2, batchSize: 64, lr: 0.005 });
  console.log(kind, (Date.now() - t0) / 1000);
})();

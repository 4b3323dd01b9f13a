const m = require('./out/model/src/index.js');
const { markovSplit, popularity } = require('./out/model/src/testing.js');
(async () => {
  const be = await m.initBackend(process.argv[2] || 'cpu');
  console.log(be.name, be.version);
  const split = markovSplit({ numItems: 100, users: 400, minLen: 15, maxLen: 30 });
  console.log('pop', await m.evaluateLocal(popularity(split), split.test));
  for (const kind of (process.argv[3] || 'sasrec,gru4rec,lstm,item2vec').split(',')) {
    const enc = m.createEncoder(kind === 'item2vec' ? { kind, numItems: 100, dim: 32, maxLen: 30, decay: 0.5, subsample: 0 } : { kind, numItems: 100, dim: 32, maxLen: 30, blocks: 1, dropout: 0.1 });
    const t0 = Date.now();
    const rep = await m.trainModel(enc, split, { epochs: kind === 'item2vec' ? 5 : 10, batchSize: kind === 'item2vec' ? 512 : 64, lr: kind === 'item2vec' ? 0.01 : 0.005, loss: process.argv[4] || 'softmax' });
    const ev = await m.evaluateLocal(enc, split.test);
    console.log(kind, ((Date.now() - t0) / 1000).toFixed(1) + 's', rep.epochs.map(e => e.loss.toFixed(3)).join(' '), rep.numTensors, 'HR', ev.hr.toFixed(3), 'NDCG', ev.ndcg.toFixed(3));
    enc.dispose();
  }
  console.log('tensors', m.tf.memory().numTensors);
})().catch(e => { console.error(e); process.exit(1); });

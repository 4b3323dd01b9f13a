import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LeaveOneOutSplit } from '@seqrec/datasets';
import { initBackend } from './backend';
import { lengthBuckets, nextItemBatch, leftPad } from './batches';
import { resolveConfig, type EncoderConfigInput, type RnnConfig } from './config';
import { createEncoder, type LayersSequenceEncoder } from './encoder';
import { evaluateLocal } from './evaluate-local';
import { loadModel, saveModel } from './io';
import { CausalSelfAttention } from './layers/attention';
import { ItemEmbedding } from './layers/item-embedding';
import { LayerNorm } from './layers/layer-norm';
import { copySlice, segmentSumRows } from './kernels';
import { dropout, dropoutMask, fullSoftmaxCrossEntropy, layerNorm, relu, seedDropout, softmaxCrossEntropy } from './ops';
import { markovSplit, popularity } from './testing';
import { Rng } from '@seqrec/random';
import { tf } from './tf';
import { trainModel, type TrainOptions } from './train';

// Unit tests run on the pure-JS backend unless SEQREC_TF_BACKEND says otherwise.
before(async () => {
  await initBackend('cpu');
});

const N = 40;
const split: LeaveOneOutSplit = markovSplit({ numItems: N, users: 160, minLen: 12, maxLen: 20, seed: 3 });

const small = (kind: EncoderConfigInput['kind'], extra: Partial<EncoderConfigInput> = {}): EncoderConfigInput =>
  ({ kind, numItems: N, dim: 16, maxLen: 20, blocks: 1, heads: 2, dropout: 0.1, seed: 1, ...extra }) as EncoderConfigInput;

const fit = (enc: LayersSequenceEncoder, o: Partial<TrainOptions> = {}) =>
  trainModel(enc, split, { epochs: 6, batchSize: 32, lr: 0.01, ...o });

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>, tol = 0): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i]! - b[i]!) > tol) assert.fail(`index ${i}: ${a[i]} vs ${b[i]} (tolerance ${tol})`);
  }
}

describe('models learn a Markov chain far above popularity', () => {
  let popHr = 0;
  before(async () => {
    popHr = (await evaluateLocal(popularity(split), split.test)).hr;
    assert.ok(popHr < 0.45, `popularity HR@10 ${popHr} should be low on this data`);
  });

  for (const [kind, o, extra] of [
    ['sasrec', {}, {}],
    ['gru4rec', { lr: 0.02, epochs: 8 }, {}],
    ['lstm', { lr: 0.02, epochs: 8 }, {}],
    ['nextitnet', {}, { dilations: [1, 2] }],
    ['item2vec', { epochs: 4, batchSize: 256, lr: 0.05 }, { decay: 0.3, subsample: 0, window: 1 }],
  ] as const) {
    it(`${kind}`, async (t) => {
      const enc = createEncoder(small(kind, extra));
      try {
        const report = await fit(enc, o);
        const m = await evaluateLocal(enc, split.test);
        t.diagnostic(`HR@10 ${m.hr.toFixed(3)}, popularity ${popHr.toFixed(3)}, ${report.totalSeconds.toFixed(1)} s`);
        assert.ok(m.hr > Math.max(0.6, 2 * popHr), `${kind} HR@10 ${m.hr.toFixed(3)} vs popularity ${popHr.toFixed(3)}`);
        assert.ok(report.epochs[report.epochs.length - 1]!.loss < report.epochs[0]!.loss, 'loss decreases');
        assert.equal(report.numTensors.after, report.numTensors.before, 'no tensor leaks');
      } finally {
        enc.dispose();
      }
    });
  }

  for (const loss of ['bce', 'sampled-softmax'] as const) {
    it(`sasrec with ${loss} trains`, async () => {
      const enc = createEncoder(small('sasrec'));
      try {
        const report = await fit(enc, { loss, epochs: 3, negatives: loss === 'bce' ? 2 : 16 });
        assert.equal(report.loss, loss);
        assert.ok(report.epochs.every((e) => Number.isFinite(e.loss)));
        assert.ok(report.epochs[2]!.loss < report.epochs[0]!.loss);
        assert.equal(report.numTensors.after, report.numTensors.before);
      } finally {
        enc.dispose();
      }
    });
  }
});

/** Changing position 5 of a window leaves the hidden states before it unchanged and changes those from it on. */
function assertCausal(enc: LayersSequenceEncoder): void {
  const a = Int32Array.from([0, 0, 3, 7, 9, 11, 2, 5]);
  const b = a.slice();
  b[5] = 30;
  const h = tf.tidy(() => enc.hiddenStates(tf.tensor2d([Array.from(a), Array.from(b)], [2, 8], 'int32'), null, false));
  const v = h.arraySync() as number[][][];
  h.dispose();
  for (let t = 0; t < 5; t++) sameArray(v[0]![t]!, v[1]![t]!, 1e-6);
  for (let t = 5; t < 8; t++) assert.ok(v[0]![t]!.some((x, j) => Math.abs(x - v[1]![t]![j]!) > 1e-4), `position ${t} should change`);
}

describe('NextItNet convolutions', () => {
  it('are causal and see the window the same whatever the padding width', () => {
    const enc = createEncoder(small('nextitnet', { dilations: [1, 2, 4] }));
    try {
      assertCausal(enc);
      const hist = Int32Array.from([4, 8, 15]);
      const alone = enc.encode([hist]);
      const padded = enc.encode([hist, Int32Array.from({ length: 20 }, (_, i) => 1 + (i % N))]);
      sameArray(alone.dataSync(), padded.slice([0, 0], [1, 16]).dataSync(), 1e-5);
      tf.dispose([alone, padded]);
    } finally {
      enc.dispose();
    }
  });
});

describe('SASRec attention', () => {
  it('is causal: changing a later position leaves earlier outputs unchanged', () => {
    const enc = createEncoder(small('sasrec', { blocks: 2 }));
    try {
      assertCausal(enc);
    } finally {
      enc.dispose();
    }
  });

  for (const positions of ['end', 'start'] as const) {
    it(`gives the same user vector whatever the batch padding width (positions from the ${positions})`, () => {
      const enc = createEncoder(small('sasrec', { positions }));
      try {
        const h = Int32Array.from([4, 8, 15]);
        const alone = enc.encode([h]);
        const padded = enc.encode([h, Int32Array.from({ length: 20 }, (_, i) => 1 + (i % N))]);
        sameArray(alone.dataSync(), padded.slice([0, 0], [1, 16]).dataSync(), 1e-5);
        const reference = enc.encodeIds(tf.tensor2d([[0, 0, 0, 0, 0, 4, 8, 15]], [1, 8], 'int32'), null);
        sameArray(alone.dataSync(), reference.dataSync(), 1e-5);
        tf.dispose([alone, padded, reference]);
      } finally {
        enc.dispose();
      }
    });
  }

  it('counts positions from the newest item (end) or from the oldest item of the window (start)', () => {
    const rows = [
      [0, 0, 0, 3, 5, 7],
      [1, 2, 3, 4, 5, 6],
    ];
    const embed = (positionsFrom: 'end' | 'start', width: number) => {
      const layer = new ItemEmbedding({ name: `emb_${positionsFrom}_${width}`, numItems: 9, dim: 4, maxLen: 6, positional: true, positionsFrom, seed: 3 });
      const ids = tf.tensor2d(rows.map((r) => r.slice(6 - width)), [2, width], 'int32');
      const out = (layer.apply(ids) as tf.Tensor).arraySync() as number[][][];
      const [items, pos] = layer.getWeights().map((w) => w.arraySync() as number[][]) as [number[][], number[][]];
      tf.dispose(ids);
      return { out, items, pos };
    };
    for (const width of [6, 4]) {
      for (const from of ['end', 'start'] as const) {
        const { out, items, pos } = embed(from, width);
        rows.forEach((full, r) => {
          const row = full.slice(6 - width);
          const n = row.filter((id) => id > 0).length;
          row.forEach((id, c) => {
            // end: the newest column is position maxLen - 1; start: the oldest item is position 0.
            const p = from === 'end' ? 6 - width + c : c - (width - n);
            const want = id === 0 ? [0, 0, 0, 0] : items[id]!.map((v, j) => v + pos[p]![j]!);
            sameArray(Float32Array.from(out[r]![c]!), Float32Array.from(want), 1e-6);
          });
        });
      }
    }
    // The two countings differ for a row shorter than the window.
    assert.notDeepEqual(embed('end', 6).out[0]![3], embed('start', 6).out[0]![3]);
    assert.throws(() => new ItemEmbedding({ numItems: 3, dim: 2, maxLen: 4, positional: true, positionsFrom: 'middle' as never }), /positionsFrom must be end\|start, got middle/);
  });

  it('shape errors print both shapes', () => {
    const ln = new LayerNorm({ name: 'ln_test' });
    ln.apply(tf.input({ shape: [null, 4] }));
    const x = tf.zeros([2, 3, 5]);
    assert.throws(() => ln.apply(x), /\[2, 3, 5\].*\[4\]/);
    const att = new CausalSelfAttention({ name: 'att_test', dim: 8, heads: 2 });
    assert.throws(
      () => att.apply([tf.input({ shape: [null, 6] }), tf.input({ shape: [null] })]),
      /\[null, null, 6\].*\[null, null\]/,
    );
    att.apply([tf.input({ shape: [null, 8] }), tf.input({ shape: [null] })]);
    const bad = [tf.zeros([2, 3, 8]), tf.zeros([2, 4])];
    assert.throws(() => att.apply(bad), /\[2, 3, 8\].*\[2, 4\]/);
    assert.throws(() => new CausalSelfAttention({ dim: 8, heads: 3 }), /heads \(3\) must divide dim \(8\)/);
    tf.dispose([x, ...bad]);
  });
});

describe('serialisation', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seqrec-model-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const kind of ['sasrec', 'gru4rec', 'lstm', 'nextitnet', 'item2vec'] as const) {
    it(`${kind}: save → load scores identically`, async () => {
      const typed = kind !== 'item2vec';
      const data = typed ? markovSplit({ numItems: N, users: 40, minLen: 8, maxLen: 12, numTypes: 3, seed: 9 }) : split;
      // lstm: hidden width ≠ dim, so the projection layer is saved and loaded too.
      const enc = createEncoder(small(kind, typed ? { numTypes: 3, ...(kind === 'lstm' ? { units: 24 } : {}) } : {}));
      await trainModel(enc, data, { epochs: 1, batchSize: 16, lr: 0.01, maxBatchesPerEpoch: 2 });
      const hist = data.test.slice(0, 8).map((c) => c.history);
      const withTypes = typed ? data.test.slice(0, 8).map((c) => c.historyTypes!) : undefined;
      const before = await enc.scoreBatch(hist, withTypes);
      await saveModel(enc, join(dir, kind), { dataset: 'markov' });
      const loaded = await loadModel(join(dir, kind));
      try {
        assert.deepEqual(loaded.config, enc.config);
        sameArray(await loaded.scoreBatch(hist, withTypes), before);
      } finally {
        enc.dispose();
        loaded.dispose();
      }
    });
  }

  it('sasrec with the original block layout, normal init and positions from the start: save → load scores identically', async () => {
    const enc = createEncoder(small('sasrec', { layout: 'sasrec', init: 'normal', positions: 'start' }));
    await trainModel(enc, split, { epochs: 1, batchSize: 16, lr: 0.01, maxBatchesPerEpoch: 2 });
    const hist = split.test.slice(0, 8).map((c) => c.history);
    const before = await enc.scoreBatch(hist);
    await saveModel(enc, join(dir, 'sasrec-orig'), { dataset: 'markov' });
    const loaded = await loadModel(join(dir, 'sasrec-orig'));
    try {
      assert.equal(loaded.config.kind === 'sasrec' && loaded.config.layout, 'sasrec');
      assert.equal(loaded.config.kind === 'sasrec' && loaded.config.init, 'normal');
      assert.equal(loaded.config.kind === 'sasrec' && loaded.config.positions, 'start');
      sameArray(await loaded.scoreBatch(hist), before);
    } finally {
      enc.dispose();
      loaded.dispose();
    }
  });

  it('a sasrec saved before layout, init and positions existed loads as pre-ln / glorot / end', async () => {
    const enc = createEncoder(small('sasrec'));
    try {
      await saveModel(enc, join(dir, 'sasrec-old'), { dataset: 'markov' });
      const file = join(dir, 'sasrec-old', 'config.json');
      const info = JSON.parse(await readFile(file, 'utf8')) as { config: Record<string, unknown> };
      delete info.config['layout'];
      delete info.config['init'];
      delete info.config['positions'];
      await writeFile(file, JSON.stringify(info));
      const loaded = await loadModel(join(dir, 'sasrec-old'));
      assert.deepEqual(loaded.config, enc.config);
      loaded.dispose();
    } finally {
      enc.dispose();
    }
  });
});

describe('training loop', () => {
  it('keeps the tensor count stable across epochs, stops early and restores the best weights', async () => {
    const enc = createEncoder(small('gru4rec'));
    const counts: number[] = [];
    const scoresAt: Float32Array[] = [];
    const probe = split.test.slice(0, 5).map((c) => c.history);
    const fake = [0.5, 0.6, 0.55, 0.52, 0.51, 0.5];
    try {
      const report = await fit(enc, {
        epochs: 6,
        maxBatchesPerEpoch: 2,
        patience: 2,
        validate: async (epoch) => {
          counts.push(tf.memory().numTensors);
          scoresAt.push(await enc.scoreBatch(probe));
          return { ndcg10: fake[epoch - 1]! };
        },
      });
      assert.equal(report.bestEpoch, 2);
      assert.equal(report.bestNdcg10, 0.6);
      assert.ok(report.stoppedEarly);
      assert.equal(report.stopReason, 'patience');
      assert.ok(report.restoredBest);
      assert.equal(report.epochs.length, 4);
      // From epoch 2 on, the best-weights snapshot (one clone per weight) is held; nothing else grows.
      const weights = enc.model.getWeights().length;
      assert.deepEqual(counts, [counts[0], counts[0]! + weights, counts[0]! + weights, counts[0]! + weights], `tensor counts per epoch`);
      assert.equal(report.numTensors.after, report.numTensors.before);
      sameArray(await enc.scoreBatch(probe), scoresAt[1]!);
      for (const e of report.epochs) assert.ok(e.seconds > 0 && e.sequencesPerSecond > 0 && e.examples > 0);
    } finally {
      enc.dispose();
    }
  });

  it('stops at the time budget after the epoch in progress, keeping the best weights', async () => {
    const enc = createEncoder(small('gru4rec'));
    try {
      const fake = [0.4, 0.3];
      // A budget every epoch exceeds: the first epoch runs and validates, no second one starts.
      const report = await fit(enc, { epochs: 5, maxBatchesPerEpoch: 2, maxSeconds: 1e-6, validate: async (e) => ({ ndcg10: fake[e - 1]! }) });
      assert.equal(report.epochs.length, 1);
      assert.equal(report.stopReason, 'time-budget');
      assert.ok(report.stoppedEarly);
      assert.equal(report.bestEpoch, 1);
      const full = await fit(enc, { epochs: 2, maxBatchesPerEpoch: 1, maxSeconds: 3600 });
      assert.equal(full.epochs.length, 2);
      assert.equal(full.stopReason, null);
      await assert.rejects(fit(enc, { epochs: 1, maxSeconds: 0 }), /maxSeconds must be > 0/);
    } finally {
      enc.dispose();
    }
  });

  it('reports progress with an ETA', async () => {
    const enc = createEncoder(small('sasrec'));
    const seen: number[] = [];
    try {
      await fit(enc, {
        epochs: 2,
        maxBatchesPerEpoch: 3,
        progressEvery: 1,
        onProgress: (p) => {
          assert.ok(p.etaSeconds >= 0 && Number.isFinite(p.loss));
          seen.push(p.batch);
        },
      });
      assert.deepEqual(seen, [1, 2, 3, 1, 2, 3]);
    } finally {
      enc.dispose();
    }
  });

  it('trains with event types and uses them', async () => {
    const typed = markovSplit({ numItems: N, users: 40, minLen: 8, maxLen: 12, numTypes: 4, seed: 5 });
    const enc = createEncoder(small('sasrec', { numTypes: 4 }));
    try {
      const report = await trainModel(enc, typed, { epochs: 1, batchSize: 16, lr: 0.01 });
      assert.ok(Number.isFinite(report.epochs[0]!.loss));
      const h = [typed.test[0]!.history];
      const a = await enc.scoreBatch(h, [typed.test[0]!.historyTypes!]);
      const b = await enc.scoreBatch(h, [typed.test[0]!.historyTypes!.map((t) => (t + 1) % 4)]);
      assert.ok(a.some((x, i) => Math.abs(x - b[i]!) > 1e-5));
      await assert.rejects(enc.scoreBatch(h), /needs event types/);
    } finally {
      enc.dispose();
    }
  });

  it('rejects bad options', async () => {
    const enc = createEncoder(small('sasrec'));
    try {
      await assert.rejects(trainModel(enc, split, { epochs: 1, batchSize: 0, lr: 0.1 }), /batchSize/);
      await assert.rejects(trainModel(enc, split, { epochs: 1, batchSize: 8, lr: 0.1, maxLen: 99 }), /maxLen 99/);
    } finally {
      enc.dispose();
    }
  });
});

describe('serving helpers', () => {
  it('topK and scoreItems agree with scoreBatch, exclude items and never return padding', async () => {
    const enc = createEncoder(small('sasrec'));
    try {
      const hs = split.test.slice(0, 3).map((c) => c.history);
      const before = tf.memory().numTensors;
      const all = await enc.scoreBatch(hs);
      const top = await enc.topK(hs, 5, { exclude: [Int32Array.from([1, 2, 3])], excludeHistory: true });
      const cands = hs.map((_, i) => Int32Array.from([i + 1, 7, 9, 11].slice(0, 2 + i)));
      const picked = await enc.scoreItems(hs, cands);
      enc.invalidate();
      assert.equal(tf.memory().numTensors, before, 'serving leaves no tensors behind');
      top.forEach((t, i) => {
        assert.equal(t.items.length, 5);
        const row = all.subarray(i * (N + 1), (i + 1) * (N + 1));
        const banned = new Set([0, ...hs[i]!, ...(i === 0 ? [1, 2, 3] : [])]);
        const expected = Array.from(row.keys())
          .filter((it) => !banned.has(it))
          .sort((a, b) => row[b]! - row[a]!)
          .slice(0, 5);
        assert.deepEqual(Array.from(t.items), expected);
        sameArray(t.scores, expected.map((it) => row[it]!), 1e-5);
        sameArray(picked[i]!, Array.from(cands[i]!, (it) => row[it]!), 1e-5);
      });
    } finally {
      enc.dispose();
    }
  });
});

describe('backend selection', () => {
  it('rejects an unknown SEQREC_TF_BACKEND', async () => {
    const saved = process.env['SEQREC_TF_BACKEND'];
    process.env['SEQREC_TF_BACKEND'] = 'gpu';
    try {
      await assert.rejects(initBackend(), /SEQREC_TF_BACKEND: must be one of tensorflow\|wasm\|cpu, got "gpu"/);
    } finally {
      if (saved === undefined) delete process.env['SEQREC_TF_BACKEND'];
      else process.env['SEQREC_TF_BACKEND'] = saved;
    }
  });

  it('reports the active backend', async () => {
    const info = await initBackend('cpu');
    assert.equal(info.name, tf.getBackend());
    assert.equal(info.native, info.name === 'tensorflow');
    assert.match(info.version, /tfjs-core 4\./);
  });
});

describe('ops and kernels', () => {
  it('fused full-softmax cross-entropy matches the plain formula, value and gradients', () => {
    tf.tidy(() => {
      const h = tf.randomNormal([7, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
      const table = tf.randomNormal([11, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
      const labels = tf.tensor1d([0, 3, 10, 2, 2, 5, 9], 'int32');
      const ref = (a: tf.Tensor, b: tf.Tensor) =>
        tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 11), tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true)) as tf.Scalar;
      const { value: v1, grads: g1 } = tf.valueAndGrads(ref)([h, table]);
      const { value: v2, grads: g2 } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
        fullSoftmaxCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, labels),
      )([h, table]);
      const { value: v3, grads: g3 } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
        softmaxCrossEntropy(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true), labels),
      )([h, table]);
      sameArray(v2.dataSync(), v1.dataSync(), 1e-5);
      sameArray(v3.dataSync(), v1.dataSync(), 1e-5);
      for (let i = 0; i < 2; i++) {
        sameArray(g2[i]!.dataSync(), g1[i]!.dataSync(), 1e-5);
        sameArray(g3[i]!.dataSync(), g1[i]!.dataSync(), 1e-5);
      }
    });
  });

  it('layer norm with its written-out gradient matches autodiff of the plain formula', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([3, 4, 6], 0, 2, 'float32', 1);
      const gamma = tf.randomNormal([6], 1, 0.5, 'float32', 2);
      const beta = tf.randomNormal([6], 0, 0.5, 'float32', 3);
      const dy = tf.randomNormal([3, 4, 6], 0, 1, 'float32', 4);
      const plain = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const xc = tf.sub(a, tf.mean(a, -1, true));
        return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), 1e-6))), g), b);
      };
      const loss = (f: typeof plain) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), dy));
      sameArray(layerNorm(x, gamma, beta, 1e-6).dataSync(), plain(x, gamma, beta).dataSync(), 1e-5);
      const want = tf.grads(loss(plain))([x, gamma, beta]);
      const got = tf.grads(loss((a, g, b) => layerNorm(a, g, b, 1e-6)))([x, gamma, beta]);
      for (let i = 0; i < 3; i++) sameArray(got[i]!.dataSync(), want[i]!.dataSync(), 1e-4);
    });
  });

  it('relu and its gradient match tf.relu', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([40, 5], 0, 1, 'float32', 5);
      const w = tf.randomNormal([40, 5], 0, 1, 'float32', 6);
      sameArray(relu(x).dataSync(), tf.relu(x).dataSync());
      const f = (r: (t: tf.Tensor) => tf.Tensor) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(r(t), w)))(x).dataSync();
      sameArray(f(relu), f((t) => tf.relu(t)));
    });
  });

  it('dropout keeps the expectation, passes its mask to the gradient and is identity at inference', () => {
    tf.tidy(() => {
      seedDropout(11);
      const x = tf.ones([200, 50]);
      const y = dropout(x, 0.2, true);
      const v = y.dataSync();
      const zeros = v.filter((e) => e === 0).length / v.length;
      assert.ok(Math.abs(zeros - 0.2) < 0.02, `dropped ${zeros}`);
      assert.ok(v.every((e) => e === 0 || Math.abs(e - 1.25) < 1e-5));
      seedDropout(11);
      const g = tf.grad((t: tf.Tensor) => tf.sum(dropout(t, 0.2, true)))(x).dataSync();
      sameArray(g, v, 1e-6);
      assert.equal(dropout(x, 0.2, false), x);
    });
  });

  it('copySlice and segmentSumRows match naive versions', () => {
    const shape = [3, 4, 5];
    const x = Float32Array.from({ length: 60 }, (_, i) => i);
    const cases: [number[], number[]][] = [
      [[1, 0, 0], [2, 4, 5]],
      [[0, 1, 2], [3, 2, 3]],
      [[0, 0, 4], [3, 4, 1]],
      [[2, 3, 0], [1, 1, 5]],
    ];
    for (const [begin, size] of cases) {
      const out = new Float32Array(size.reduce((a, d) => a * d, 1));
      copySlice(x, shape, begin, size, out);
      const naive: number[] = [];
      for (let i = 0; i < size[0]!; i++)
        for (let j = 0; j < size[1]!; j++)
          for (let k = 0; k < size[2]!; k++) naive.push(x[(begin[0]! + i) * 20 + (begin[1]! + j) * 5 + begin[2]! + k]!);
      assert.deepEqual(Array.from(out), naive, `slice ${begin} ${size}`);
    }
    const out = new Float32Array(4 * 2);
    segmentSumRows(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Int32Array.from([3, 0, 3, -1]), 4, out);
    assert.deepEqual(Array.from(out), [3, 4, 0, 0, 0, 0, 1 + 5, 2 + 6]);
  });

  it('the replacement kernels agree with tf ops on this backend', () => {
    tf.tidy(() => {
      const x = tf.tensor3d(Float32Array.from({ length: 60 }, (_, i) => i), [3, 4, 5]);
      const parts = tf.unstack(x, 1);
      assert.deepEqual(parts[2]!.arraySync(), (x.arraySync() as number[][][]).map((r) => r[2]));
      const [a, b] = tf.split(x, [2, 3], 2);
      assert.deepEqual(tf.concat([a!, b!], 2).arraySync(), x.arraySync());
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([0, 2, 0], 'int32'))))(tf.ones([4, 2]));
      assert.deepEqual(g.arraySync(), [[2, 2], [0, 0], [1, 1], [0, 0]]);
    });
  });

  it('dropout masks drop the right fraction and keep the expectation', () => {
    const m = dropoutMask(100_001, 0.2, 5);
    let zeros = 0;
    let sum = 0;
    for (const v of m) {
      if (v === 0) zeros++;
      sum += v;
    }
    assert.ok(Math.abs(zeros / m.length - 0.2) < 0.01, `dropped ${zeros / m.length}`);
    assert.ok(Math.abs(sum / m.length - 1) < 0.02, `mean ${sum / m.length}`);
    assert.notDeepEqual(dropoutMask(64, 0.5, 1), dropoutMask(64, 0.5, 2));
    assert.deepEqual(dropoutMask(64, 0.5, 3), dropoutMask(64, 0.5, 3));
  });

  it('batches are left-padded with the most recent items last', () => {
    const p = leftPad([Int32Array.from([1, 2, 3, 4]), Int32Array.from([5])], 3);
    assert.deepEqual(Array.from(p.ids), [2, 3, 4, 0, 0, 5]);
    const b = nextItemBatch([Int32Array.from([1, 2, 3]), Int32Array.from([4, 5, 6, 7, 8])], 3);
    assert.equal(b.len, 3);
    assert.deepEqual(Array.from(b.ids), [0, 1, 2, 5, 6, 7]);
    assert.deepEqual(Array.from(b.targets), [0, 2, 3, 6, 7, 8]);
    assert.deepEqual(Array.from(b.positions), [1, 2, 3, 4, 5]);
  });

  it('length buckets hold every sequence once, in batches of similar length, in a seeded order', () => {
    const rng = new Rng(5);
    const lengths = Array.from({ length: 1000 }, () => 1 + rng.int(200));
    const order = rng.shuffle(Int32Array.from(lengths.keys()));
    const buckets = lengthBuckets(order, (i) => lengths[i]!, 32, 8, new Rng(9));
    const seen = buckets.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    assert.deepEqual(seen, Array.from(lengths.keys()));
    assert.equal(buckets.length, Math.ceil(1000 / 32));
    assert.equal(buckets.filter((b) => b.length !== 32).length, 1, 'one partial batch, from the last chunk');
    // padded positions: far fewer than random batches of the same size
    const padded = (bs: Int32Array[]) => bs.reduce((sum, b) => sum + b.length * Math.max(...Array.from(b, (i) => lengths[i]!)), 0);
    const random = Array.from({ length: Math.ceil(1000 / 32) }, (_, k) => order.subarray(k * 32, (k + 1) * 32));
    assert.ok(padded(buckets) < 0.75 * padded(random), `bucketed ${padded(buckets)} vs random ${padded(random)}`);
    // the batch order is shuffled, not sorted by length
    const widths = buckets.map((b) => Math.max(...Array.from(b, (i) => lengths[i]!)));
    assert.notDeepEqual(widths, [...widths].sort((a, b) => a - b));
    assert.deepEqual(lengthBuckets(order, (i) => lengths[i]!, 32, 8, new Rng(9)), buckets);
    assert.throws(() => lengthBuckets(order, (i) => lengths[i]!, 0, 8, rng), /batchSize/);
    assert.throws(() => lengthBuckets(order, (i) => lengths[i]!, 32, 1.5, rng), /chunkBatches/);
  });

  for (const [kind, extra] of [
    ['sasrec', { blocks: 2 }],
    ['sasrec', { blocks: 2, layout: 'sasrec', positions: 'start' }],
    ['gru4rec', {}],
    ['lstm', {}],
    ['nextitnet', { dilations: [1, 2] }],
  ] as const) {
    it(`${kind} ${JSON.stringify(extra)}: a history's hidden states do not depend on the width it is padded to`, () => {
      const enc = createEncoder(small(kind, extra as Partial<EncoderConfigInput>));
      try {
        const hist = [3, 9, 4, 17, 2];
        const h = (width: number) =>
          tf.tidy(() => {
            const ids = tf.tensor2d([[...Array(width - hist.length).fill(0), ...hist]], [1, width], 'int32');
            const out = enc.hiddenStates(ids, null, false);
            return out.slice([0, width - hist.length, 0], [1, hist.length, -1]).dataSync();
          });
        sameArray(h(hist.length), h(20), 1e-5);
        sameArray(h(8), h(20), 1e-5);
      } finally {
        enc.dispose();
      }
    });
  }

  it('configs are validated', () => {
    assert.throws(() => resolveConfig({ kind: 'sasrec', numItems: 0 }), /numItems/);
    assert.throws(() => resolveConfig({ kind: 'sasrec', numItems: 5, dim: 10, heads: 3 }), /heads \(3\) must divide dim \(10\)/);
    assert.throws(() => resolveConfig({ kind: 'item2vec', numItems: 5, numTypes: 2 }), /no event types/);
    assert.equal((resolveConfig({ kind: 'gru4rec', numItems: 5 }) as RnnConfig).units, 50);
    assert.throws(() => resolveConfig({ kind: 'sasrec', numItems: 5, layout: 'post' as never }), /layout must be pre-ln\|sasrec, got post/);
    assert.throws(() => resolveConfig({ kind: 'sasrec', numItems: 5, positions: 'middle' as never }), /positions must be end\|start, got middle/);
    assert.throws(() => resolveConfig({ kind: 'sasrec', numItems: 5, init: 'he' as never }), /init must be glorot\|normal, got he/);
  });
});

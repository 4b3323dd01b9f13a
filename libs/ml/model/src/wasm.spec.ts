import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Tensor } from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { createEncoder } from './encoder';
import { registerTrainingKernels } from './kernels';
import { fullSoftmaxCrossEntropy, mm } from './ops';
import { markovSplit } from './testing';
import { tf } from './tf';
import { trainModel } from './train';

// The WASM backend runs code paths of its own (explicit-transpose matmul gradients, batched
// products as loops, replacement Slice/Unpack/SplitV/UnsortedSegmentSum kernels): each must give
// what the pure-JS backend gives.

let wasm = false;
before(async () => {
  wasm = (await initBackend('wasm')).name === 'wasm';
  registerTrainingKernels('cpu');
});

/** Runs `f` on wasm then on cpu and returns both results as plain arrays. */
async function onBoth(f: () => Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const out: Float32Array[][] = [];
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    const ts = tf.tidy(f);
    out.push(ts.map((t) => Float32Array.from(t.dataSync())));
    tf.dispose(ts);
  }
  await tf.setBackend('wasm');
  return [out[0]!, out[1]!];
}

function close(a: Float32Array[], b: Float32Array[], tol: number): void {
  assert.equal(a.length, b.length);
  a.forEach((x, k) => {
    assert.equal(x.length, b[k]!.length);
    for (let i = 0; i < x.length; i++) {
      const scale = Math.max(1, Math.abs(b[k]![i]!));
      if (Math.abs(x[i]! - b[k]![i]!) > tol * scale) assert.fail(`output ${k}[${i}]: wasm ${x[i]} vs cpu ${b[k]![i]}`);
    }
  });
}

describe('wasm backend matches cpu', () => {
  it('mm (2-D and batched) values and gradients', async (t) => {
    if (!wasm) return t.skip('wasm backend unavailable');
    const [w, c] = await onBoth(() => {
      const a2 = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
      const b2 = tf.randomNormal([4, 5], 0, 1, 'float32', 2);
      const a3 = tf.randomNormal([3, 6, 4], 0, 1, 'float32', 3);
      const b3 = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 4);
      const g2 = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.square(mm(a, b))))([a2, b2]);
      const g3 = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.square(mm(a, b))))([a3, b3]);
      return [mm(a2, b2), mm(a3, b3), ...g2, ...g3];
    });
    close(w, c, 1e-4);
  });

  it('fused full-softmax cross-entropy gradients', async (t) => {
    if (!wasm) return t.skip('wasm backend unavailable');
    const [w, c] = await onBoth(() => {
      const h = tf.randomNormal([9, 4], 0, 1, 'float32', 5);
      const table = tf.randomNormal([13, 4], 0, 1, 'float32', 6);
      const labels = tf.tensor1d([0, 1, 2, 12, 5, 5, 7, 3, 11], 'int32');
      const { value, grads } = tf.valueAndGrads((a: Tensor, b: Tensor) =>
        fullSoftmaxCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, labels),
      )([h, table]);
      return [value, ...grads];
    });
    close(w, c, 1e-4);
  });

  it('slice, unstack, split and gather gradients', async (t) => {
    if (!wasm) return t.skip('wasm backend unavailable');
    const [w, c] = await onBoth(() => {
      const x = tf.tensor3d(Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => i * 0.5), [2, 5, 3]);
      const xi = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
      const g = tf.grad((e: Tensor) => tf.sum(tf.mul(tf.gather(e, tf.tensor2d([[1, 3], [3, 0]], [2, 2], 'int32')), 2)))(
        tf.ones([4, 3]),
      );
      return [
        tf.slice(x, [0, 1, 1], [2, 3, 2]),
        ...tf.unstack(x, 1),
        ...tf.split(x, [1, 2], 2),
        ...tf.unstack(xi, 1).map((v) => tf.cast(v, 'float32')),
        g,
      ];
    });
    close(w, c, 0);
  });

  it('SASRec and GRU4Rec training steps give the same losses', async (t) => {
    if (!wasm) return t.skip('wasm backend unavailable');
    const split = markovSplit({ numItems: 30, users: 40, minLen: 6, maxLen: 12, seed: 2 });
    for (const kind of ['sasrec', 'gru4rec'] as const) {
      const losses: number[][] = [];
      for (const backend of ['wasm', 'cpu']) {
        await tf.setBackend(backend);
        const enc = createEncoder({ kind, numItems: 30, dim: 8, maxLen: 12, blocks: 1, heads: 2, dropout: 0.2, seed: 4 });
        const r = await trainModel(enc, split, { epochs: 2, batchSize: 16, lr: 0.01, maxBatchesPerEpoch: 2 });
        losses.push(r.epochs.map((e) => e.loss));
        enc.dispose();
      }
      await tf.setBackend('wasm');
      close([Float32Array.from(losses[0]!)], [Float32Array.from(losses[1]!)], 1e-4);
    }
  });
});

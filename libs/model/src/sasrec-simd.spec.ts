import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from './backend';
import { leftPad } from './batches';
import type { EncoderConfig } from './config';
import { createEncoder } from './encoder';
import { SasrecSimd } from './sasrec-simd';
import { markovSplit } from './testing';
import { tf } from './tf';
import { trainModel } from './train';

before(async () => {
  await initBackend('cpu');
});

const N = 40;

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > tol) assert.fail(`${what}, index ${i}: ${a[i]} vs ${b[i]} (tolerance ${tol})`);
}

describe(SasrecSimd.name, () => {
  for (const variant of [
    { name: '1 block, 1 head, d 16', cfg: { blocks: 1, heads: 1, dim: 16 } },
    { name: '2 blocks, 2 heads, d 16', cfg: { blocks: 2, heads: 2, dim: 16 } },
    { name: '2 blocks, d 50 (padded to 56), inner 24', cfg: { blocks: 2, heads: 1, dim: 50, innerDim: 24 } },
    { name: '3 blocks, 2 heads of 6 (padded to 8), event types', cfg: { blocks: 3, heads: 2, dim: 12, numTypes: 4 } },
  ]) {
    it(`equals the LayersModel's last state for any history length (${variant.name}), SIMD and scalar`, async () => {
      const numTypes = 'numTypes' in variant.cfg ? variant.cfg.numTypes : 0;
      const enc = createEncoder({ kind: 'sasrec', numItems: N, maxLen: 10, dropout: 0.1, seed: 4, ...variant.cfg });
      try {
        // Trained a little, so layer norms, biases and positions are not at their initial values.
        const data = markovSplit({ numItems: N, users: 40, minLen: 8, maxLen: 14, ...(numTypes ? { numTypes } : {}), seed: 9 });
        await trainModel(enc, data, { epochs: 1, batchSize: 16, lr: 0.01, maxBatchesPerEpoch: 3 });
        const histories = [[5], [3, 7, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]].map((h) => Int32Array.from(h));
        const types = numTypes ? histories.map((h) => Uint8Array.from(h, (_, j) => (j * 7) % numTypes)) : undefined;
        // Reference: the LayersModel on the padded batch (every position computed).
        const p = leftPad(histories, 10, types);
        const ids = tf.tensor2d(p.ids, [p.rows, p.len], 'int32');
        const t = p.types ? tf.tensor2d(p.types, [p.rows, p.len], 'int32') : null;
        const ref = enc.encodeIdsLayers(ids, t);
        const want = (await ref.data()) as Float32Array;
        tf.dispose([ids, ref, ...(t ? [t] : [])]);
        const d = enc.config.dim;
        for (const scalar of [false, true]) {
          const simd = new SasrecSimd(enc.config as Extract<EncoderConfig, { kind: 'sasrec' }>, enc.model, scalar);
          assert.equal(simd.simd, !scalar);
          histories.forEach((h, i) => close(simd.encode(h, types?.[i]), want.subarray(i * d, (i + 1) * d), 1e-4, `history ${i}, simd ${!scalar}`));
          // A second call on a longer, then a shorter, sequence: no state leaks between calls.
          close(simd.encode(histories[0]!, types?.[0]), want.subarray(0, d), 1e-4, 'repeat');
        }
      } finally {
        enc.dispose();
      }
    });
  }

  it('an empty history gives the all-padding state; bad input is refused', () => {
    const enc = createEncoder({ kind: 'sasrec', numItems: N, dim: 16, maxLen: 10, blocks: 1, heads: 1, dropout: 0, seed: 2 });
    try {
      const ids = tf.zeros([1, 4], 'int32') as tf.Tensor2D;
      const ref = enc.encodeIdsLayers(ids, null);
      const simd = new SasrecSimd(enc.config as Extract<EncoderConfig, { kind: 'sasrec' }>, enc.model);
      close(simd.encode(new Int32Array(0)), ref.dataSync(), 1e-5, 'empty');
      tf.dispose([ids, ref]);
      assert.throws(() => simd.encode(Int32Array.of(3, 0)), /item index 0 is not in 1\.\.40/);
      assert.throws(() => simd.encode(Int32Array.of(41)), /item index 41/);
    } finally {
      enc.dispose();
    }
  });
});

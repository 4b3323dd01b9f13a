/** The inline (WebAssembly SIMD) encoders against the LayersModel they stand for. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from './backend';
import { leftPad } from './batches';
import type { EncoderConfig, EncoderConfigInput } from './config';
import { createEncoder } from './encoder';
import { inlineEncoderFor } from './inline-encoder';
import { RnnSimd } from './rnn-simd';
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

const HISTORIES = [[5], [3, 7, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]].map((h) => Int32Array.from(h));

/**
 * A model trained a little (so layer norms, biases and positions are not at their initial values),
 * the test histories with event types when the model has them, and the reference user vectors: the
 * LayersModel on the padded batch (every position computed), maxLen 10.
 */
async function trainedWithReference(input: EncoderConfigInput, numTypes: number, typeStep: number) {
  const enc = createEncoder(input);
  const data = markovSplit({ numItems: N, users: 40, minLen: 8, maxLen: 14, ...(numTypes ? { numTypes } : {}), seed: 9 });
  await trainModel(enc, data, { epochs: 1, batchSize: 16, lr: 0.01, maxBatchesPerEpoch: 3 });
  const types = numTypes ? HISTORIES.map((h) => Uint8Array.from(h, (_, j) => (j * typeStep) % numTypes)) : undefined;
  const p = leftPad(HISTORIES, 10, types);
  const ids = tf.tensor2d(p.ids, [p.rows, p.len], 'int32');
  const t = p.types ? tf.tensor2d(p.types, [p.rows, p.len], 'int32') : null;
  const ref = enc.encodeIds(ids, t);
  const want = (await ref.data()) as Float32Array;
  tf.dispose([ids, ref, ...(t ? [t] : [])]);
  return { enc, types, want, d: enc.config.dim };
}

describe(SasrecSimd.name, () => {
  for (const variant of [
    { name: '1 block, 1 head, d 16', cfg: { blocks: 1, heads: 1, dim: 16 } },
    { name: '2 blocks, 2 heads, d 16', cfg: { blocks: 2, heads: 2, dim: 16 } },
    { name: '2 blocks, d 50 (padded to 56), inner 24', cfg: { blocks: 2, heads: 1, dim: 50, innerDim: 24 } },
    { name: '3 blocks, 2 heads of 6 (padded to 8), event types', cfg: { blocks: 3, heads: 2, dim: 12, numTypes: 4 } },
    { name: 'sasrec layout, normal init, 2 blocks, 2 heads, d 16', cfg: { blocks: 2, heads: 2, dim: 16, layout: 'sasrec' as const, init: 'normal' as const } },
    { name: 'sasrec layout, 1 block, d 12 (padded), inner 20, event types', cfg: { blocks: 1, heads: 1, dim: 12, innerDim: 20, numTypes: 3, layout: 'sasrec' as const } },
    { name: 'positions from the start, sasrec layout, 2 blocks, d 16', cfg: { blocks: 2, heads: 1, dim: 16, layout: 'sasrec' as const, positions: 'start' as const } },
  ]) {
    it(`equals the LayersModel's last state for any history length (${variant.name}), SIMD and scalar`, async () => {
      const numTypes = 'numTypes' in variant.cfg ? (variant.cfg.numTypes ?? 0) : 0;
      const { enc, types, want, d } = await trainedWithReference({ kind: 'sasrec', numItems: N, maxLen: 10, dropout: 0.1, seed: 4, ...variant.cfg }, numTypes, 7);
      try {
        for (const scalar of [false, true]) {
          const simd = new SasrecSimd(enc.config as Extract<EncoderConfig, { kind: 'sasrec' }>, enc.model, scalar);
          assert.equal(simd.simd, !scalar);
          HISTORIES.forEach((h, i) => close(simd.encode(h, types?.[i]), want.subarray(i * d, (i + 1) * d), 1e-4, `history ${i}, simd ${!scalar}`));
          // A second call on a longer, then a shorter, sequence: no state leaks between calls.
          close(simd.encode(HISTORIES[0]!, types?.[0]), want.subarray(0, d), 1e-4, 'repeat');
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
      const ref = enc.encodeIds(ids, null);
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

describe(RnnSimd.name, () => {
  for (const variant of [
    { name: 'GRU4Rec, units = dim', cfg: { kind: 'gru4rec' as const, dim: 16, units: 16 } },
    { name: 'GRU4Rec, 20 units projected to 12, event types', cfg: { kind: 'gru4rec' as const, dim: 12, units: 20, numTypes: 3 } },
    { name: 'LSTM, units = dim', cfg: { kind: 'lstm' as const, dim: 16, units: 16 } },
    { name: 'LSTM, 10 units projected to 24', cfg: { kind: 'lstm' as const, dim: 24, units: 10 } },
  ]) {
    it(`equals the LayersModel's last state for any history length (${variant.name}), SIMD and scalar`, async () => {
      const numTypes = 'numTypes' in variant.cfg ? (variant.cfg.numTypes ?? 0) : 0;
      const { enc, types, want, d } = await trainedWithReference({ numItems: N, maxLen: 10, dropout: 0.1, seed: 5, ...variant.cfg }, numTypes, 5);
      try {
        const inline = inlineEncoderFor(enc);
        assert.ok(inline instanceof RnnSimd && inline.simd, 'the factory picks the SIMD RNN encoder');
        for (const scalar of [false, true]) {
          const rnn = new RnnSimd(enc.config as ConstructorParameters<typeof RnnSimd>[0], enc.model, scalar);
          HISTORIES.forEach((h, i) => close(rnn.encode(h, types?.[i]), want.subarray(i * d, (i + 1) * d), 1e-4, `history ${i}, simd ${!scalar}`));
          close(rnn.encode(HISTORIES[1]!, types?.[1]), want.subarray(d, 2 * d), 1e-4, 'a repeat starts from a zero state');
        }
        assert.throws(() => inline.encode(Int32Array.of(0), numTypes ? Uint8Array.of(0) : undefined), /item index 0 is not in 1\.\.40/);
      } finally {
        enc.dispose();
      }
    });
  }

  it('the factory covers SASRec too, and not item2vec', () => {
    const sas = createEncoder({ kind: 'sasrec', numItems: N, dim: 8, maxLen: 6, blocks: 1, heads: 1, dropout: 0, seed: 1 });
    const i2v = createEncoder({ kind: 'item2vec', numItems: N, dim: 8, maxLen: 6, seed: 1 });
    try {
      assert.ok(inlineEncoderFor(sas) instanceof SasrecSimd);
      assert.equal(inlineEncoderFor(i2v), null);
    } finally {
      sas.dispose();
      i2v.dispose();
    }
  });
});

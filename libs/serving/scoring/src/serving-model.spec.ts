import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServingArtifact } from '@seqrec/artifacts';
import { createEncoder, initBackend, tf } from '@seqrec/model';
import { ServingModel } from './serving-model';

function artifact(): ServingArtifact {
  const encoder = createEncoder({ kind: 'sasrec', numItems: 30, dim: 8, maxLen: 6, blocks: 1, heads: 1, seed: 4 });
  const vocabulary = ['', ...Array.from({ length: 30 }, (_, i) => `i${i + 1}`)];
  return {
    kind: 'encoder',
    manifest: { model: 'sasrec', version: 'v1', createdAt: new Date().toISOString(), data: 'test', metrics: {}, backend: 'test' },
    encoder,
    vocabulary,
    index: new Map(vocabulary.map((id, i) => [id, i] as const).filter(([, i]) => i > 0)),
    popularity: new Float32Array(31),
    popularOrder: Int32Array.from({ length: 30 }, (_, i) => i + 1),
  };
}

describe(ServingModel.name, () => {
  it('scores candidates for a stored vector exactly as the item table does, unknown candidates 0, without new tensors', async () => {
    await initBackend();
    const model = new ServingModel(artifact());
    try {
      const user = model.encoder.encode([Int32Array.of(3, 5, 7)]);
      const vector = (await user.data()) as Float32Array;
      const all = tf.tidy(() => tf.matMul(user, model.encoder.itemTable(), false, true));
      const want = (await all.data()) as Float32Array;
      tf.dispose([user, all]);
      const before = tf.memory().numTensors;
      const got = model.scoreVector(vector, Int32Array.of(9, 0, 1, 30));
      assert.equal(tf.memory().numTensors, before);
      [9, 0, 1, 30].forEach((c, q) => assert.ok(Math.abs(got[q]! - (c === 0 ? 0 : want[c]!)) < 1e-4, `candidate ${c}: ${got[q]} vs ${want[c]}`));
      assert.throws(() => model.scoreVector(new Float32Array(3), Int32Array.of(1)), /3 dimensions, the model 8/);
    } finally {
      model.retire();
    }
  });
});

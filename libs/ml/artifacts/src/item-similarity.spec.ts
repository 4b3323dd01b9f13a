import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tf } from '@seqrec/model';
import { ItemSimilarity } from './item-similarity';

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1);
}

describe(ItemSimilarity.name, () => {
  it('returns the items of highest cosine, best first, without padding or the item itself', async () => {
    const n = 2_001;
    const d = 32;
    const rows = random(n * d, 3);
    // Rows of very different norms: cosine must not favour long vectors.
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) rows[i * d + j]! *= 1 + (i % 10);
    const table = tf.tensor2d(rows, [n, d]);
    const sim = new ItemSimilarity(() => table);
    try {
      for (const index of [1, 17, 1000, n - 1]) {
        const norm = (i: number) => Math.sqrt(Array.from(rows.subarray(i * d, (i + 1) * d)).reduce((a, v) => a + v * v, 0));
        const want: Array<[number, number]> = [];
        for (let i = 1; i < n; i++) {
          if (i === index) continue;
          let dot = 0;
          for (let j = 0; j < d; j++) dot += rows[i * d + j]! * rows[index * d + j]!;
          want.push([i, dot / (norm(i) * norm(index))]);
        }
        want.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
        const got = await sim.similar(index, 10);
        assert.deepEqual(Array.from(got.items), want.slice(0, 10).map((w) => w[0]), `item ${index}`);
        got.scores.forEach((s, r) => assert.ok(Math.abs(s - want[r]![1]) < 1e-5, `item ${index} rank ${r}: ${s} vs ${want[r]![1]}`));
      }
      await assert.rejects(sim.similar(0, 5), /no item 0/);
      await assert.rejects(sim.similar(n, 5), /no item 2001 in a table of 2000 items/);
    } finally {
      sim.dispose();
      table.dispose();
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopK, initBackend, tf } from '@seqrec/model';
import { IvfIndex } from './ivf-index';

/** Items in `clusters` well-separated groups around random centres, d dimensions; row 0 = padding. */
function clustered(n: number, d: number, clusters: number, seed: number): Float32Array {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: d }, () => 3 * rand()));
  const t = new Float32Array((n + 1) * d);
  for (let i = 1; i <= n; i++) {
    const c = centres[i % clusters]!;
    for (let j = 0; j < d; j++) t[i * d + j] = c[j]! + 0.3 * rand();
  }
  return t;
}

function exactTop(table: Float32Array, n: number, d: number, q: Float32Array, k: number, exclude?: Set<number>): number[] {
  const top = new TopK(k);
  for (let i = 1; i <= n; i++) {
    if (exclude?.has(i)) continue;
    let s = 0;
    for (let j = 0; j < d; j++) s += q[j]! * table[i * d + j]!;
    top.offer(i, s);
  }
  return Array.from(top.result().items);
}

describe(IvfIndex.name, () => {
  it('keeps the k best of a stream, best first', () => {
    const top = new TopK(3);
    [5, 1, 9, 3, 7, 2].forEach((v, i) => top.offer(i, v));
    assert.deepEqual(Array.from(top.result().items), [2, 4, 0]);
    assert.deepEqual(Array.from(top.result().scores), [9, 7, 5]);
  });

  it('finds the exact top-k when every list is probed, and high recall with few probes on clustered items', async () => {
    await initBackend();
    const n = 3_000;
    const d = 16;
    const table = clustered(n, d, 40, 7);
    const before = tf.memory().numTensors;
    const index = await IvfIndex.build(table, n + 1, d, { lists: 40, probes: 4, seed: 3 });
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
    assert.equal(index.listSizes.mean, n / 40);
    assert.equal(index.simd, true, 'scans run in WebAssembly SIMD');
    let s = 99;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
    // Queries near items (like user vectors near what they clicked).
    const queries = Array.from({ length: 50 }, () => {
      const i = 1 + Math.floor(((rand() + 1) / 2) * (n - 1));
      return Float32Array.from({ length: d }, (_, j) => table[i * d + j]! + 0.2 * rand());
    });
    const q0 = queries[0]!;
    const exclude = new Set(exactTop(table, n, d, q0, 3));
    const all = index.search(q0, 20, exclude, 40);
    assert.deepEqual(Array.from(all.items), exactTop(table, n, d, q0, 20, exclude), 'probing every list is exact');
    for (let i = 1; i < all.scores.length; i++) assert.ok(all.scores[i - 1]! >= all.scores[i]!);
    assert.equal(await index.recallAt(queries, 20, 40), 1);
    const few = await index.recallAt(queries, 20, 4);
    assert.ok(few >= 0.9, `recall@20 with 4 of 40 lists: ${few}`);
    const one = await index.recallAt(queries, 20, 1);
    assert.ok(one <= few, `fewer probes cannot find more (${one} vs ${few})`);
  });

  it('never returns the padding row and rejects bad input', async () => {
    await initBackend();
    const table = clustered(50, 4, 5, 1);
    const index = await IvfIndex.build(table, 51, 4, { lists: 8, probes: 8 });
    const r = index.search(Float32Array.of(0, 0, 0, 0), 60);
    assert.equal(r.items.length, 50);
    assert.ok(!Array.from(r.items).includes(0));
    assert.throws(() => index.search(Float32Array.of(1), 5), /1 dimensions, the index 4/);
    await assert.rejects(IvfIndex.build(table, 51, 4, { lists: 0, probes: 1 }), /lists must be a positive integer/);
    await assert.rejects(IvfIndex.build(table, 40, 4, { lists: 2, probes: 1 }), /expected 40 × 4/);
  });
});

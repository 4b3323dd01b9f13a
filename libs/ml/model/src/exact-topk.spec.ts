import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ExactTopK, INT8_KERNEL_WAT, int8UnrolledKernelWat } from './exact-topk';
import { loadWat, watToWasm } from './wat';

before(() => loadWat());

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1);
}

/** Every row scored in double precision, sorted (score desc, index asc): the reference. */
function bruteForce(rows: Float32Array, d: number, q: ArrayLike<number>, k: number, first: number, exclude: number[] = []): { items: number[]; scores: number[] } {
  const skip = new Set(exclude);
  const all: Array<[number, number]> = [];
  for (let i = first; i < rows.length / d; i++) {
    if (skip.has(i)) continue;
    let s = 0;
    for (let j = 0; j < d; j++) s += rows[i * d + j]! * q[j]!;
    all.push([i, s]);
  }
  all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const top = all.slice(0, k);
  return { items: top.map((x) => x[0]), scores: top.map((x) => Math.fround(x[1])) };
}

describe(ExactTopK.name, () => {
  it('is a valid WebAssembly SIMD module, and the kernel in use here', () => {
    assert.ok(WebAssembly.validate(watToWasm('bounds8', INT8_KERNEL_WAT)));
    const at = { dots: 1 << 20, highs: 2 << 20, scales: 3 << 20, norms: 4 << 20, resids: 5 << 20 };
    for (let chunks = 1; chunks <= 8; chunks++) assert.ok(WebAssembly.validate(watToWasm('bounds8u', int8UnrolledKernelWat(chunks, at))), `unrolled, ${chunks} chunks`);
    assert.equal(new ExactTopK(new Float32Array(16), 1, 16).simd, true, 'Node 20 has WebAssembly SIMD: the scalar fallback must not be what runs');
    assert.equal(new ExactTopK(new Float32Array(64), 1, 64).kernel, 'unrolled');
    assert.equal(new ExactTopK(new Float32Array(128), 1, 128).kernel, 'unrolled');
    assert.equal(new ExactTopK(new Float32Array(129), 1, 129).kernel, 'loop');
    assert.equal(new ExactTopK(new Float32Array(64), 1, 64, 0, true).kernel, 'scalar');
  });

  // d ≤ 128 runs the unrolled kernel (1 to 8 chunks), d = 200 the chunk-loop one.
  for (const d of [1, 7, 16, 50, 64, 100, 128, 200]) {
    it(`returns exactly the brute-force top-k for d = ${d}, SIMD and scalar alike, with exclusions and a skipped first row`, () => {
      const n = 3_000;
      const rows = random(n * d, 17 + d);
      const simd = new ExactTopK(rows, n, d, 1);
      const scalar = new ExactTopK(rows, n, d, 1, true);
      assert.equal(scalar.simd, false);
      for (let t = 0; t < 20; t++) {
        const q = random(d, 1000 * d + t);
        const k = [1, 5, 20, 200][t % 4]!;
        const exclude = t % 2 ? [] : bruteForce(rows, d, q, 3, 1).items.concat([0, n - 1, 5]);
        const want = bruteForce(rows, d, q, k, 1, exclude);
        for (const table of [simd, scalar]) {
          const got = table.topK(q, k, exclude);
          assert.deepEqual(Array.from(got.items), want.items, `d=${d} simd=${table.simd} query ${t}`);
          assert.deepEqual(Array.from(got.scores), want.scores);
          assert.ok(!got.items.includes(0), 'row 0 (padding) is never returned');
        }
        // The exclusions are forgotten after the query.
        assert.deepEqual(Array.from(simd.topK(q, 1).items), bruteForce(rows, d, q, 1, 1).items);
      }
    });
  }

  it('stays exact where int8 rounding alone would change the order: near-duplicate rows', () => {
    // 400 rows that differ from one base row by less than one int8 step in one coordinate: their
    // quantised scores tie or cross, their true scores do not. Mixed with ordinary rows.
    const d = 64;
    const base = random(d, 5);
    const n = 1_000;
    const rows = random(n * d, 6);
    for (let i = 0; i < 400; i++) {
      const o = (1 + i * 2) * d;
      rows.set(base, o);
      rows[o + (i % d)] = base[i % d]! + ((i % 7) - 3) * 1e-4;
    }
    const table = new ExactTopK(rows, n, d, 1);
    let crossed = 0;
    for (let t = 0; t < 10; t++) {
      const q = random(d, 77 + t);
      const want = bruteForce(rows, d, q, 20, 1);
      const got = table.topK(q, 20);
      assert.deepEqual(Array.from(got.items), want.items, `query ${t}`);
      assert.ok(table.lastRescored > 20, 'the near-ties are rescored');
      // The test is only worth something if quantised scores alone would have ranked differently.
      const approx = approximateOrder(rows, d, q, 20);
      if (approx.join() !== want.items.join()) crossed++;
    }
    assert.ok(crossed > 0, 'int8 scores alone must get some of these orders wrong, or this test proves nothing');
  });

  it('rescores only a few rows per query on a 50,000 × 64 table', () => {
    const n = 50_000;
    const d = 64;
    const rows = random(n * d, 9);
    const table = new ExactTopK(rows, n, d, 1);
    let rescored = 0;
    for (let t = 0; t < 10; t++) {
      const q = random(d, 300 + t);
      assert.deepEqual(Array.from(table.topK(q, 20).items), bruteForce(rows, d, q, 20, 1).items);
      rescored += table.lastRescored;
    }
    assert.ok(rescored / 10 < 500, `mean rows rescored ${rescored / 10} (of ${n}): the bound is too loose`);
  });

  it('on a large table lists in the kernel only the rows that can still rank, and stays exact whatever the first rows are', () => {
    const n = 20_000;
    const d = 64;
    const base = random(d, 41);
    for (const layout of ['random', 'weak first rows', 'near-duplicates and ties across the sample'] as const) {
      const rows = random(n * d, 40);
      if (layout === 'weak first rows') {
        // The rows that set the kernel's threshold are the weakest: a low threshold, a long list.
        for (let i = 0; i < 4_000 * d; i++) rows[i]! *= 0.01;
      } else if (layout === 'near-duplicates and ties across the sample') {
        // Copies of one row in the sample and after it (exact ties: the smaller index first), and
        // near-copies after it that int8 rounding cannot tell apart.
        for (const i of [3, 500, 1_000, 5_000, 12_000, 19_999]) rows.set(base, i * d);
        for (let c = 0; c < 300; c++) {
          const o = (15_000 + c) * d;
          rows.set(base, o);
          rows[o + (c % d)] = base[c % d]! + ((c % 7) - 3) * 1e-4;
        }
      }
      const table = new ExactTopK(rows, n, d, 1);
      let passed = 0;
      for (let t = 0; t < 12; t++) {
        const q = layout === 'near-duplicates and ties across the sample' && t % 2 === 0 ? Float32Array.from(base, (v, j) => v + 0.01 * Math.sin(j + t)) : random(d, 900 + t);
        const k = [1, 20, 200][t % 3]!;
        const top = bruteForce(rows, d, q, 3, 1).items;
        const exclude = t % 4 === 1 ? top.concat([2, 1_500, n - 2]) : [];
        const want = bruteForce(rows, d, q, k, 1, exclude);
        const got = table.topK(q, k, exclude);
        assert.deepEqual(Array.from(got.items), want.items, `${layout}, query ${t}, k ${k}`);
        assert.deepEqual(Array.from(got.scores), want.scores);
        if (k === 20 && layout === 'random') passed += table.lastPassed;
      }
      if (layout === 'random') assert.ok(passed / 4 < n / 4, `the JS pass looked at ${passed / 4} of ${n} rows per query: the kernel's list does not prune`);
    }
  });

  it('handles ties, zero queries, k beyond the eligible rows and k = 0', () => {
    const d = 8;
    const rows = new Float32Array(6 * d);
    for (let i = 1; i < 6; i++) rows.fill(i % 2 ? 1 : 0.5, i * d, (i + 1) * d); // rows 1, 3, 5 tie
    const table = new ExactTopK(rows, 6, d, 1);
    const q = new Float32Array(d).fill(1);
    assert.deepEqual(Array.from(table.topK(q, 4).items), [1, 3, 5, 2]);
    assert.deepEqual(Array.from(table.topK(q, 10, [3]).items), [1, 5, 2, 4]);
    assert.deepEqual(Array.from(table.topK(new Float32Array(d), 3).items), [1, 2, 3], 'all scores 0: index order');
    assert.equal(table.topK(q, 0).items.length, 0);
  });

  it('refuses what it cannot answer, naming the problem', () => {
    assert.throws(() => new ExactTopK(new Float32Array(10), 2, 4), /10 values for 2 × 4/);
    assert.throws(() => new ExactTopK(Float32Array.of(1, NaN), 1, 2), /row 0 has a non-finite value at 1/);
    assert.throws(() => new ExactTopK(new Float32Array(2 * 2000), 2, 2000), /at most 1024 dimensions/);
    const table = new ExactTopK(new Float32Array(8), 2, 4);
    assert.throws(() => table.topK([1, 2], 1), /query has 2 dimensions, the table 4/);
    assert.throws(() => table.topK([1, 2, Infinity, 0], 1), /non-finite value at 2/);
    assert.throws(() => table.topK([1, 2, 3, 4], -1), /k must be a non-negative integer/);
  });
});

/** The order int8-quantised rows alone would give (what the bound protects against). */
function approximateOrder(rows: Float32Array, d: number, q: Float32Array, k: number): number[] {
  const n = rows.length / d;
  const scored: Array<[number, number]> = [];
  for (let i = 1; i < n; i++) {
    let max = 0;
    for (let j = 0; j < d; j++) max = Math.max(max, Math.abs(rows[i * d + j]!));
    const s = max / 127;
    let dot = 0;
    for (let j = 0; j < d; j++) dot += (s ? Math.round(rows[i * d + j]! / s) * s : 0) * q[j]!;
    scored.push([i, dot]);
  }
  scored.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return scored.slice(0, k).map((x) => x[0]);
}

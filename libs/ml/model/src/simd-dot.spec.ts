import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DOT_KERNEL_WAT, DotTable } from './simd-dot';
import { loadWat, watToWasm } from './wat';

before(() => loadWat());

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1);
}

/** Plain double-precision dot products, the reference. */
function reference(rows: Float32Array, d: number, q: Float32Array, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += q[j]! * rows[i * d + j]!;
    out.push(s);
  }
  return out;
}

describe(DotTable.name, () => {
  it('is a valid WebAssembly SIMD module, and the kernel in use here', () => {
    assert.ok(WebAssembly.validate(watToWasm('dots', DOT_KERNEL_WAT)));
    assert.equal(new DotTable(new Float32Array(8), 1, 8).simd, true, 'Node 20 has WebAssembly SIMD: the scalar fallback must not be what runs');
  });

  for (const d of [1, 3, 8, 50, 64, 65]) {
    it(`matches plain dot products for d = ${d}, SIMD and scalar alike, over any row range`, () => {
      const n = 37;
      const rows = random(n * d, d);
      const q = random(d, 100 + d);
      for (const table of [new DotTable(rows, n, d), new DotTable(rows, n, d, n, true)]) {
        table.setQuery(q);
        for (const [from, to] of [[0, n], [5, 6], [10, 30], [n, n]] as const) {
          const got = Array.from(table.scores(from, to));
          const want = reference(rows, d, q, from, to);
          assert.equal(got.length, want.length);
          got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-5 * Math.max(1, Math.abs(want[i]!)), `d=${d} simd=${table.simd} row ${from + i}: ${g} vs ${want[i]}`));
        }
        assert.deepEqual(Array.from(table.row(3)), Array.from(rows.subarray(3 * d, 4 * d)));
      }
    });
  }

  it('a new query replaces the old one; separate tables do not share memory', () => {
    const a = new DotTable(Float32Array.of(1, 2, 3, 4), 2, 2);
    const b = new DotTable(Float32Array.of(10, 0, 0, 10), 2, 2);
    a.setQuery(Float32Array.of(1, 0));
    b.setQuery(Float32Array.of(0, 1));
    assert.deepEqual(Array.from(a.scores(0, 2)), [1, 3]);
    assert.deepEqual(Array.from(b.scores(0, 2)), [0, 10]);
    a.setQuery(Float32Array.of(0, 1));
    assert.deepEqual(Array.from(a.scores(0, 2)), [2, 4]);
  });

  it('rejects bad shapes and ranges', () => {
    assert.throws(() => new DotTable(new Float32Array(5), 2, 3), /5 values for 2 × 3/);
    assert.throws(() => new DotTable(new Float32Array(0), 0, 0), /dim must be a positive integer/);
    const t = new DotTable(new Float32Array(12), 4, 3, 2);
    assert.throws(() => t.setQuery(new Float32Array(4)), /query has 4 dimensions, the table 3/);
    assert.throws(() => t.scores(0, 3), /at most 2 at a time/);
    assert.throws(() => t.scores(3, 5), /rows \[3, 5\) of 4/);
  });
});

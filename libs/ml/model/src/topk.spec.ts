import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Rng } from '@seqrec/random';
import { ExactTopK } from './exact-topk';
import { TopK, selectTopK, selectTopKAsync, type ItemRules, type Ranked } from './topk';
import { loadWat } from './wat';

before(() => loadWat());

function table(n: number, d: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n * d }, () => rng.float() * 2 - 1);
}

/** Every item scored, sorted (score desc, index asc), then the rules applied walking down: the reference. */
function bruteForce(rows: Float32Array, d: number, q: Float32Array, k: number, rules: ItemRules): number[] {
  const all: Array<[number, number]> = [];
  for (let i = 1; i < rows.length / d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += rows[i * d + j]! * q[j]!;
    all.push([i, s]);
  }
  all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const counts = new Map<number, number>();
  const out: number[] = [];
  for (const [i] of all) {
    if (out.length === k) break;
    if (rules.accept && !rules.accept(i)) continue;
    if (rules.maxPerGroup && rules.groupOf) {
      const g = rules.groupOf(i);
      if (g >= 0 && (counts.get(g) ?? 0) >= rules.maxPerGroup) continue;
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    out.push(i);
  }
  return out;
}

/** A search that ignores `accept` (as the TF matMul path does): the first `width` items of the full ranking. */
function unfiltered(rows: Float32Array, d: number, q: Float32Array): (width: number) => Ranked {
  return (width) => {
    const top = new TopK(width);
    for (let i = 1; i < rows.length / d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += rows[i * d + j]! * q[j]!;
      top.offer(i, s);
    }
    return top.result();
  };
}

describe(TopK.name, () => {
  it('keeps the k best of a stream, best first, ties by the smaller index', () => {
    const top = new TopK(3);
    [5, 1, 9, 3, 9, 2, 5].forEach((v, i) => top.offer(i, v));
    assert.deepEqual(Array.from(top.result().items), [2, 4, 0]);
    assert.deepEqual(Array.from(top.result().scores), [9, 9, 5]);
    assert.equal(top.offered, 7);
    assert.equal(new TopK(0).result().items.length, 0);
  });

  it('property: result() is the sorted reference for random streams with many ties, and can be read twice', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 300; trial++) {
      const k = 1 + Math.floor(rand() * 40);
      const n = Math.floor(rand() * 120);
      const scores = Array.from({ length: n }, () => Math.floor(rand() * 10) / 2);
      const top = new TopK(k);
      scores.forEach((v, i) => top.offer(i, v));
      const want = scores.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k);
      const first = top.result();
      assert.deepEqual(Array.from(first.items), want.map(([, i]) => i), `trial ${trial}`);
      assert.deepEqual(Array.from(first.scores), want.map(([v]) => v), `trial ${trial}`);
      assert.deepEqual(Array.from(top.result().items), Array.from(first.items), 'the heap is intact after a read');
    }
  });
});

describe(selectTopK.name, () => {
  const n = 6_001;
  const d = 32;
  const rng = new Rng(7);
  const rows = table(n, d, rng);
  let exact: ExactTopK;
  before(() => {
    exact = new ExactTopK(rows, n, d, 1);
  });
  const groups = Int32Array.from({ length: n }, (_, i) => i % 17);
  const groupOf = (i: number) => groups[i]!;

  const cases: Array<[string, () => ItemRules]> = [
    ['no rules', () => ({})],
    ['a filter passing a third', () => ({ accept: (i) => i % 3 === 0 })],
    ['a filter passing 1 in 500 (the scan lists almost every row)', () => ({ accept: (i) => i % 500 === 7 })],
    ['a cap of 1 per group', () => ({ groupOf, maxPerGroup: 1 })],
    ['a cap of 2 per group with a filter', () => ({ accept: (i) => i % 2 === 1, groupOf, maxPerGroup: 2 })],
    ['a cap where one group is uncapped (negative)', () => ({ groupOf: (i) => (i % 5 === 0 ? -1 : groups[i]!), maxPerGroup: 1 })],
  ];
  for (const [name, make] of cases) {
    it(`equals the brute-force reference: ${name}, inside the exact scan and around a search that does not filter`, () => {
      const rules = make();
      for (let t = 0; t < 8; t++) {
        const q = Float32Array.from({ length: d }, () => rng.float() * 2 - 1);
        for (const k of [1, 10, 20, 50]) {
          const want = bruteForce(rows, d, q, k, rules);
          const inside = selectTopK(k, rules, n - 1, (w, accept) => exact.topK(q, w, undefined, accept));
          assert.deepEqual(Array.from(inside.items), want, `${name} k=${k} (exact scan)`);
          const around = selectTopK(k, rules, n - 1, unfiltered(rows, d, q));
          assert.deepEqual(Array.from(around.items), want, `${name} k=${k} (post-filtered)`);
        }
      }
    });
  }

  it('returns k results when exactly k pass, and all of them when fewer do', () => {
    const q = Float32Array.from({ length: d }, () => rng.float() * 2 - 1);
    const pass = new Set([5, 77, 1234, 4000, 6000]);
    const rules: ItemRules = { accept: (i) => pass.has(i) };
    assert.deepEqual(Array.from(selectTopK(5, rules, n - 1, (w, a) => exact.topK(q, w, undefined, a)).items).sort((a, b) => a - b), [...pass]);
    assert.deepEqual(Array.from(selectTopK(5, rules, n - 1, unfiltered(rows, d, q)).items).sort((a, b) => a - b), [...pass]);
    assert.equal(selectTopK(9, rules, n - 1, unfiltered(rows, d, q)).items.length, 5);
    // exactly k under a cap: 3 groups, at most 2 each → 6
    const capped: ItemRules = { groupOf: (i) => i % 3, maxPerGroup: 2 };
    assert.equal(selectTopK(6, capped, n - 1, unfiltered(rows, d, q)).items.length, 6);
    assert.equal(selectTopK(7, capped, n - 1, unfiltered(rows, d, q)).items.length, 6);
  });

  it('property: for random tables, rules and k, the answer is the reference (and the async form agrees)', async () => {
    const prng = new Rng(42);
    for (let trial = 0; trial < 40; trial++) {
      const m = 2 + prng.int(3000);
      const dd = 1 + prng.int(40);
      const r = table(m, dd, prng);
      const ex = new ExactTopK(r, m, dd, 1);
      const q = Float32Array.from({ length: dd }, () => prng.float() * 2 - 1);
      const keep = prng.float();
      const mask = Uint8Array.from({ length: m }, () => (prng.float() < keep ? 1 : 0));
      const g = Int32Array.from({ length: m }, () => prng.int(1 + prng.int(12)) - 1);
      const rules: ItemRules = {
        ...(prng.float() < 0.7 ? { accept: (i: number) => mask[i] === 1 } : {}),
        ...(prng.float() < 0.6 ? { groupOf: (i: number) => g[i]!, maxPerGroup: 1 + prng.int(4) } : {}),
      };
      const k = prng.int(60);
      const want = bruteForce(r, dd, q, k, rules);
      const got = selectTopK(k, rules, m - 1, (w, a) => ex.topK(q, w, undefined, a));
      assert.deepEqual(Array.from(got.items), want, `trial ${trial}: m=${m} d=${dd} k=${k}`);
      const asy = await selectTopKAsync(k, rules, m - 1, async (w) => unfiltered(r, dd, q)(w));
      assert.deepEqual(Array.from(asy.items), want, `trial ${trial} (async, post-filtered)`);
      // never fewer than k when k items pass (the reference says how many pass)
      assert.equal(got.items.length, want.length);
    }
  });
});

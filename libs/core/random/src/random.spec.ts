import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AliasTable, hashInts, hashSeed, permutation, Rng, zipfWeights } from './random';

describe(Rng.name, () => {
  it('repeats its sequence for the same seed and stream', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    for (let i = 0; i < 1_000; i++) assert.equal(a.u32(), b.u32());
  });

  it('gives independent sequences for different seeds and streams', () => {
    const first = (r: Rng): number[] => Array.from({ length: 8 }, () => r.u32());
    assert.notDeepEqual(first(new Rng(1)), first(new Rng(2)));
    assert.notDeepEqual(first(new Rng(1, 0)), first(new Rng(1, 1)));
    assert.notEqual(hashSeed(1), hashSeed('1'));
  });

  it('draws floats in [0, 1) with a mean near 1/2 and ints in range', () => {
    const r = new Rng('floats');
    let sum = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = r.float();
      assert.ok(x >= 0 && x < 1);
      sum += x;
      const k = r.int(7);
      assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  });

  it('draws integers in a closed range, seeds and shuffles', () => {
    const r = new Rng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 1_000; i++) {
      const k = r.between(3, 6);
      assert.ok(Number.isInteger(k) && k >= 3 && k <= 6);
      seen.add(k);
      const s = r.seed();
      assert.ok(Number.isInteger(s) && s >= 0 && s < 0x7fffffff);
    }
    assert.equal(seen.size, 4);
    const a = Int32Array.from({ length: 50 }, (_, i) => i);
    assert.equal(r.shuffle(a), a);
    assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
    assert.notDeepEqual(Array.from(a), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(hashInts([1, 2, 3], 7), hashInts([1, 2, 3], 7));
    assert.notEqual(hashInts([1, 2, 3], 7), hashInts([1, 2, 4], 7));
  });

  it('draws exponentials with the requested mean', () => {
    const r = new Rng(9);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += r.exp(30);
    assert.ok(Math.abs(sum / 100_000 - 30) < 1);
  });
});

describe(AliasTable.name, () => {
  it('draws indices in proportion to their weights', () => {
    const weights = [5, 0, 1, 3, 1];
    const table = new AliasTable(weights);
    const r = new Rng(4);
    const counts = new Array<number>(weights.length).fill(0);
    const n = 200_000;
    for (let i = 0; i < n; i++) counts[table.sample(r)]!++;
    for (let i = 0; i < weights.length; i++) {
      assert.ok(Math.abs(counts[i]! / n - weights[i]! / 10) < 0.01, `index ${i}: ${counts[i]! / n}`);
    }
    assert.equal(counts[1], 0);
  });

  it('rejects empty, negative and all-zero weights', () => {
    assert.throws(() => new AliasTable([]), RangeError);
    assert.throws(() => new AliasTable([1, -1]), RangeError);
    assert.throws(() => new AliasTable([0, 0]), RangeError);
  });
});

describe(zipfWeights.name, () => {
  it('decreases as 1/rank^s', () => {
    const w = zipfWeights(4, 1);
    assert.deepEqual(Array.from(w), [1, 1 / 2, 1 / 3, 1 / 4]);
  });
});

describe(permutation.name, () => {
  it('is a permutation', () => {
    const p = permutation(1_000, new Rng(1));
    assert.deepEqual(
      Array.from(p).sort((a, b) => a - b),
      Array.from({ length: 1_000 }, (_, i) => i),
    );
  });
});

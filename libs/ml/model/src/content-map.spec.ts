import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@seqrec/random';
import { cholesky, CONTENT_MAP_FORMAT, ContentMap, itemContentFeatures, type ContentFeature } from './content-map';

/** Items with 1-4 of F features; rows = a hidden linear map of the features plus noise. */
function world(items: number, F: number, dim: number, noise: number, seed: string) {
  const rng = new Rng(seed, 0);
  const truth = Float64Array.from({ length: F * dim }, () => rng.normal());
  const base = Float64Array.from({ length: dim }, () => rng.normal());
  const feats: string[][] = [];
  const rows = new Float32Array(items * dim);
  for (let i = 0; i < items; i++) {
    const fs = [...new Set(Array.from({ length: 1 + rng.int(4) }, () => rng.int(F)))];
    feats.push(fs.map((f) => `f${f}`));
    for (let j = 0; j < dim; j++) {
      let y = base[j]! + noise * rng.normal();
      for (const f of fs) y += truth[f * dim + j]!;
      rows[i * dim + j] = y;
    }
  }
  return { feats, rows, truth, base };
}

describe(ContentMap.name, () => {
  it('recovers a linear map from features to item rows, for items it did not see', () => {
    const dim = 8;
    const { feats, rows, truth, base } = world(3000, 60, dim, 0.1, 'content');
    const map = ContentMap.fit(feats, rows, dim, { seed: 3 });
    assert.equal(map.features.length, 60);
    // a new item with features f3 and f7: the truth is base + truth[3] + truth[7]
    const v = map.vector(['f3', 'f7', 'unknown'])!;
    for (let j = 0; j < dim; j++) assert.ok(Math.abs(v[j]! - (base[j]! + truth[3 * dim + j]! + truth[7 * dim + j]!)) < 0.1, `component ${j}`);
    assert.equal(map.vector(['unknown']), null);
    assert.equal(map.known(['f3', 'f3', 'zzz']), 1);
  });

  it('chooses a larger lambda when the rows are mostly noise', () => {
    const clean = ContentMap.fit(world(400, 80, 4, 0.01, 'a').feats, world(400, 80, 4, 0.01, 'a').rows, 4, { seed: 1 });
    const noisy = world(400, 80, 4, 20, 'b');
    const blurred = ContentMap.fit(noisy.feats, noisy.rows, 4, { seed: 1 });
    assert.ok(blurred.lambda > clean.lambda, `lambda clean ${clean.lambda}, noisy ${blurred.lambda}`);
  });

  it('keeps the most frequent features seen on at least minCount items, and survives JSON', () => {
    const feats = [['a', 'b'], ['a'], ['a', 'c'], ['b'], ['d']];
    const rows = Float32Array.from([1, 2, 3, 4, 5]);
    const map = ContentMap.fit(feats, rows, 1, { minCount: 2, lambdas: [1] });
    assert.deepEqual(map.features, ['a', 'b']);
    const again = ContentMap.fromJSON(JSON.parse(JSON.stringify(map.toJSON())));
    assert.deepEqual(Array.from(again.vector(['a', 'b'])!), Array.from(map.vector(['a', 'b'])!));
    assert.throws(() => ContentMap.fit(feats, new Float32Array(3), 1), /expected 5 × 1/);
    assert.equal(map.toJSON().format, CONTENT_MAP_FORMAT);
    // a map written before the format field existed still loads; an unknown format does not
    const { format: _, ...legacy } = map.toJSON();
    assert.deepEqual(Array.from(ContentMap.fromJSON(legacy).vector(['a'])!), Array.from(map.vector(['a'])!));
    assert.throws(() => ContentMap.fromJSON({ ...map.toJSON(), format: 99 }), /unknown format 99/);
    assert.throws(() => ContentMap.fromJSON({ ...map.toJSON(), weights: [1] }), /wrong size/);
  });

  it('fits valued features (an image vector) as well as named ones', () => {
    // rows = 2·img0 − img1 + (brand:x ? 3 : 0), one dimension
    const rng = new Rng('valued', 0);
    const feats: ContentFeature[][] = [];
    const rows = new Float32Array(500);
    for (let i = 0; i < 500; i++) {
      const a = rng.normal();
      const b = rng.normal();
      const x = rng.float() < 0.5;
      feats.push([['img:0', a], ['img:1', b], ...(x ? ['brand:x'] : [])]);
      rows[i] = 2 * a - b + (x ? 3 : 0);
    }
    const map = ContentMap.fit(feats, rows, 1, { lambdas: [0.01] });
    const v = map.vector([['img:0', 0.5], ['img:1', 1], 'brand:x'])![0]!;
    assert.ok(Math.abs(v - (1 - 1 + 3)) < 0.05, `got ${v}`);
    // a non-finite value is no feature
    assert.equal(map.vector([['img:0', NaN]]), null);
  });
});

describe(itemContentFeatures.name, () => {
  it('names every category level, the brand, title tokens and attributes, and values the image vector', () => {
    const f = itemContentFeatures({ category: 'Beauty/Skin Care/Face', brand: ' Acme ', title: 'Acme Face-Serum, 30 ml x', attributes: { colour: 'Red', vegan: true }, imageVector: [0.5, -1] });
    assert.deepEqual(f, [
      'cat:Beauty',
      'cat:Beauty/Skin Care',
      'cat:Beauty/Skin Care/Face',
      'brand:acme',
      'tok:acme',
      'tok:face',
      'tok:serum',
      'tok:30',
      'tok:ml',
      'attr:colour=red',
      'attr:vegan=true',
      ['img:0', 0.5],
      ['img:1', -1],
    ]);
    assert.deepEqual(itemContentFeatures({}), []);
  });
});

describe(cholesky.name, () => {
  it('factors a positive-definite matrix so that L Lᵀ gives it back', () => {
    const n = 30;
    const rng = new Rng('chol', 0);
    const M = Float64Array.from({ length: n * n }, () => rng.normal());
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) A[i * n + j]! += M[i * n + k]! * M[j * n + k]!;
    for (let i = 0; i < n; i++) A[i * n + i]! += 1;
    const L = Float64Array.from(A);
    cholesky(L, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k <= j; k++) s += L[i * n + k]! * L[j * n + k]!;
        assert.ok(Math.abs(s - A[i * n + j]!) < 1e-8);
      }
    }
    assert.throws(() => cholesky(Float64Array.of(1, 2, 2, 1), 2), /not positive definite/);
  });
});

describe(`${ContentMap.name} calibration`, () => {
  it('calibrates a user\'s content scores to the mean and spread of the model\'s own items\' scores', () => {
    const dim = 6;
    // noisy rows: the ridge predictions are shrunk toward the mean item
    const { feats, rows } = world(2000, 40, dim, 3, 'calibration');
    const map = ContentMap.fit(feats, rows, dim, { seed: 2 });
    assert.ok(map.calibrated);
    const rng = new Rng('users', 0);
    for (let t = 0; t < 5; t++) {
      const u = Float32Array.from({ length: dim }, () => rng.normal());
      const known = feats.map((_, i) => dotRow(u, rows.subarray(i * dim, (i + 1) * dim)));
      const raw = feats.map((f) => dotRow(u, map.vector(f)!));
      const cal = map.calibrate(u)!;
      const calibrated = raw.map((x) => cal.offset + cal.scale * x);
      assert.ok(sd(raw) < 0.8 * sd(known), `the raw content scores spread less (${sd(raw)} vs ${sd(known)})`);
      assert.ok(Math.abs(mean(calibrated) - mean(known)) < 1e-6 * (1 + Math.abs(mean(known))), `mean ${mean(calibrated)} vs ${mean(known)}`);
      assert.ok(Math.abs(sd(calibrated) - sd(known)) < 1e-6 * sd(known), `sd ${sd(calibrated)} vs ${sd(known)}`);
      assert.ok(Math.abs(cal.knownMean - mean(known)) < 1e-6 * (1 + Math.abs(mean(known))) && Math.abs(cal.knownSd - sd(known)) < 1e-6 * sd(known));
      assert.ok(cal.scale > 1, 'an increasing map that stretches the shrunk scores');
    }
  });

  it('keeps its calibration through JSON; a map written without one scores raw', () => {
    const { feats, rows } = world(300, 20, 3, 1, 'calibration-json');
    const map = ContentMap.fit(feats, rows, 3, { seed: 1 });
    const u = Float32Array.of(0.3, -1, 2);
    const again = ContentMap.fromJSON(JSON.parse(JSON.stringify(map.toJSON())));
    assert.deepEqual(again.calibrate(u), map.calibrate(u));
    const { calibration, ...legacy } = map.toJSON();
    assert.ok(calibration);
    const old = ContentMap.fromJSON(legacy);
    assert.equal(old.calibrated, false);
    assert.equal(old.calibrate(u), null);
    assert.throws(() => ContentMap.fromJSON({ ...map.toJSON(), calibration: { ...calibration, knownCov: [1] } }), /calibration of the wrong size/);
    assert.equal(map.calibrate(new Float32Array(3)), null, 'a zero user vector has no spread to match');
  });
});

function dotRow(u: Float32Array, v: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < u.length; j++) s += u[j]! * v[j]!;
  return s;
}
const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
};

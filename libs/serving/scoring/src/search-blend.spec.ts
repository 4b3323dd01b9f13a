import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@seqrec/random';
import { blendScores, fitBlendWeight, meanBlendNdcg, ndcgAt10, relevanceFromPositions, zScores, type BlendCase } from './search-blend';

describe(blendScores.name, () => {
  it('weighs the standardised signals, and keeps an unknown item at its engine position', () => {
    const engine = relevanceFromPositions([1, 2, 3, 4]);
    assert.deepEqual(Array.from(blendScores([1, 2, 3, 4], engine, 0)), Array.from(zScores(engine)));
    assert.deepEqual(Array.from(blendScores([1, 2, 3, 4], engine, 1)), Array.from(zScores([1, 2, 3, 4])));
    // the model does not know the second candidate: it stays between the first and the third by the engine
    const b = blendScores([0.9, null, 0.1, 0.2], engine, 0.5);
    assert.ok(b[1]! < b[0]! && b[1]! > b[3]!, Array.from(b).join(' '));
    assert.throws(() => blendScores([1], [1, 2], 0.5), /differ in length/);
    assert.throws(() => blendScores([1], [1], 2), /weight/);
  });

  it('standardises to mean 0 and sd 1, and leaves constant or empty input at 0', () => {
    const z = zScores([1, 2, 3, NaN]);
    assert.ok(Math.abs(z[0]! + z[2]!) < 1e-12 && z[1] === 0 && z[3] === 0);
    assert.ok(Math.abs(z[0]! ** 2 + z[2]! ** 2 - 3) < 1e-12);
    assert.deepEqual(Array.from(zScores([5, 5])), [0, 0]);
    assert.deepEqual(Array.from(zScores([])), []);
  });
});

describe(fitBlendWeight.name, () => {
  it('learns the weight that the cases reward', () => {
    // 300 searches over 30 candidates: each signal is the target's true edge plus its own noise, so
    // neither alone is as good as both together (the equal-noise optimum is 0.5)
    const rng = new Rng('blend', 0);
    const cases: BlendCase[] = [];
    for (let k = 0; k < 300; k++) {
      const target = rng.int(30);
      const personal = Array.from({ length: 30 }, (_, i) => rng.normal() + (i === target ? 1.5 : 0));
      const engine = Array.from({ length: 30 }, (_, i) => rng.normal() + (i === target ? 1.5 : 0));
      cases.push({ personal, engine, target });
    }
    const fit = fitBlendWeight(cases);
    assert.ok(fit.weight >= 0.3 && fit.weight <= 0.7, `weight ${fit.weight}`);
    assert.ok(fit.ndcg10 > meanBlendNdcg(cases, 0) && fit.ndcg10 > meanBlendNdcg(cases, 1));
  });

  it('counts ties against the target', () => {
    assert.equal(ndcgAt10([1, 1, 1], 0), 1 / Math.log2(4));
    assert.equal(ndcgAt10([3, 1, 2], 0), 1);
    assert.equal(ndcgAt10(Array.from({ length: 12 }, (_, i) => 12 - i), 11), 0);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignmentProblems, assignVariant, bucketOf, HOLDOUT, type AssignmentConfig } from './assignment';

const users = Array.from({ length: 100_000 }, (_, i) => `u${i}`);
const shares = (c: AssignmentConfig): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const u of users) {
    const v = assignVariant(c, u);
    out[v] = (out[v] ?? 0) + 1 / users.length;
  }
  return out;
};
/** Within 4 standard errors of a binomial share over 100,000 users. */
const near = (actual: number | undefined, expected: number) => Math.abs((actual ?? 0) - expected) <= 4 * Math.sqrt((expected * (1 - expected)) / users.length);

describe(assignVariant.name, () => {
  const config: AssignmentConfig = { id: 'exp-1', holdout: 0.1, variants: [{ name: 'control', share: 1 }, { name: 'treatment', share: 3 }] };

  it('splits users by the shares after the holdout', () => {
    const s = shares(config);
    assert.ok(near(s[HOLDOUT], 0.1), `holdout ${s[HOLDOUT]}`);
    assert.ok(near(s['control'], 0.9 * 0.25), `control ${s['control']}`);
    assert.ok(near(s['treatment'], 0.9 * 0.75), `treatment ${s['treatment']}`);
  });

  it('is sticky, and independent between experiments', () => {
    for (const u of users.slice(0, 1000)) assert.equal(assignVariant(config, u), assignVariant({ ...config, variants: [...config.variants] }, u));
    const other = { ...config, id: 'exp-2' };
    let same = 0;
    let bothTreatment = 0;
    for (const u of users) {
      const a = assignVariant(config, u);
      const b = assignVariant(other, u);
      if (a === b) same++;
      if (a === 'treatment' && b === 'treatment') bothTreatment++;
    }
    assert.ok(near(bothTreatment / users.length, 0.675 * 0.675), `both treatment ${bothTreatment}`);
    assert.ok(same < users.length, 'a new experiment id reshuffles');
  });

  it('moves only the users between the changed boundaries when shares change', () => {
    const widened = { ...config, variants: [{ name: 'control', share: 1 }, { name: 'treatment', share: 1 }] };
    for (const u of users) {
      const before = assignVariant(config, u);
      const after = assignVariant(widened, u);
      // control grows from 25% to 50% of the experiment: nobody leaves control, nobody enters the holdout
      if (before === 'control') assert.equal(after, 'control');
      if (before === HOLDOUT) assert.equal(after, HOLDOUT);
      if (after === HOLDOUT) assert.equal(before, HOLDOUT);
    }
  });

  it('places users uniformly in [0, 1)', () => {
    const bins = new Array<number>(20).fill(0);
    for (const u of users) {
      const x = bucketOf('e', u);
      assert.ok(x >= 0 && x < 1);
      bins[Math.floor(x * 20)]!++;
    }
    // chi-square with 19 degrees of freedom: 99.9th percentile 43.8
    const expected = users.length / 20;
    const chi2 = bins.reduce((s, b) => s + (b - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 43.8, `chi2 ${chi2}`);
  });
});

describe(assignmentProblems.name, () => {
  it('names every problem', () => {
    assert.deepEqual(assignmentProblems({ id: 'x', holdout: 0, variants: [{ name: 'a', share: 1 }] }), []);
    assert.deepEqual(
      assignmentProblems({ id: '', holdout: 1, variants: [{ name: 'a', share: 0 }, { name: 'a', share: 1 }, { name: HOLDOUT, share: 1 }] }),
      ['id: required', 'variants.a.share: must be > 0, got 0', 'variants: "a" twice', 'variants: "holdout" is reserved', 'holdout: must be in [0, 1), got 1'],
    );
  });
});

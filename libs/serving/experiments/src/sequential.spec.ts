import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@seqrec/random';
import { compareMeans, meanInterval, rateCounts, type MeanCounts } from './sequential';

/** Λ by numerical integration of the likelihood ratio over the N(0, τ²) mixture (independent of the closed form). */
function lambdaByIntegration(diff: number, variance: number, tau: number): number {
  const sd = Math.sqrt(variance);
  let sum = 0;
  const steps = 20_000;
  const lo = -12 * tau;
  const h = (24 * tau) / steps;
  for (let k = 0; k <= steps; k++) {
    const theta = lo + k * h;
    const prior = Math.exp(-(theta * theta) / (2 * tau * tau)) / (tau * Math.sqrt(2 * Math.PI));
    const ratio = Math.exp((diff * diff - (diff - theta) ** 2) / (2 * sd * sd));
    sum += (k === 0 || k === steps ? 0.5 : 1) * prior * ratio;
  }
  return sum * h;
}

/** One A/A (or A/B) run, observed every `every` impressions per arm; true when any look rejects. */
function peekingRun(rng: Rng, pA: number, pB: number, n: number, every: number, test: (a: MeanCounts, b: MeanCounts) => boolean): boolean {
  let sa = 0;
  let sb = 0;
  for (let i = 1; i <= n; i++) {
    if (rng.float() < pA) sa++;
    if (rng.float() < pB) sb++;
    if (i % every === 0 && test(rateCounts(sa, i), rateCounts(sb, i))) return true;
  }
  return false;
}

describe(compareMeans.name, () => {
  it('computes the mixture likelihood ratio of its definition', () => {
    for (const [diff, variance, tau] of [
      [0.01, 5e-6, 0.01],
      [-0.004, 2e-5, 0.01],
      [0.2, 0.01, 0.5],
      [0, 1e-4, 0.02],
    ] as const) {
      // a control of mean 0.5 with the variance to give `variance` for the difference, and a treatment shifted by diff
      const n = 1000;
      const per = (variance * n) / 2;
      const control = { n, sum: 0.5 * n, sumSq: n * (per + 0.25) };
      const mb = 0.5 + diff;
      const treatment = { n, sum: mb * n, sumSq: n * (per + mb * mb) };
      const r = compareMeans(control, treatment, 0.05, tau);
      assert.ok(Math.abs(r.variance - variance) < 1e-12, `variance ${r.variance} vs ${variance}`);
      const expected = lambdaByIntegration(diff, variance, tau);
      assert.ok(Math.abs(r.lambda - expected) / expected < 1e-6, `Λ ${r.lambda} vs integrated ${expected}`);
      assert.equal(r.p, Math.min(1, 1 / r.lambda));
    }
  });

  it('has a confidence sequence whose ends are exactly where the shifted test rejects', () => {
    const control = rateCounts(500, 10_000);
    const treatment = rateCounts(600, 10_000);
    const alpha = 0.05;
    const tau = 0.01;
    const r = compareMeans(control, treatment, alpha, tau);
    assert.ok(r.low > 0 && r.significant, 'a 5% → 6% difference over 10,000 each is significant');
    for (const end of [r.low, r.high]) {
      // Λ at θ = end, for the difference minus θ: 1/alpha
      const shifted = Math.sqrt(r.variance / (r.variance + tau * tau)) * Math.exp((tau * tau * (r.difference - end) ** 2) / (2 * r.variance * (r.variance + tau * tau)));
      assert.ok(Math.abs(shifted * alpha - 1) < 1e-9, `Λ(end) = ${shifted}`);
    }
  });

  it('keeps the running minimum p-value, and reports no evidence without variance', () => {
    const r = compareMeans(rateCounts(50, 1000), rateCounts(52, 1000), 0.05, 0.01, 0.01);
    assert.equal(r.p, 0.01);
    assert.equal(r.significant, true);
    const empty = compareMeans(rateCounts(0, 0), rateCounts(3, 10), 0.05, 0.01);
    assert.deepEqual([empty.lambda, empty.p, empty.low, empty.high, empty.significant], [0, 1, -Infinity, Infinity, false]);
    assert.throws(() => compareMeans(rateCounts(1, 2), rateCounts(1, 2), 0, 0.01), /alpha/);
    assert.throws(() => compareMeans(rateCounts(1, 2), rateCounts(1, 2), 0.05, 0), /tau/);
  });

  it('holds its false-positive rate under continuous peeking, where a fixed-horizon z-test does not', () => {
    // 400 A/A runs at CTR 5%, 20,000 impressions per arm, a look every 250 (80 looks per run)
    const rng = new Rng('msprt-aa', 0);
    const runs = 400;
    let msprt = 0;
    let naive = 0;
    for (let k = 0; k < runs; k++) {
      const seed = rng.u32();
      if (peekingRun(new Rng(seed, 1), 0.05, 0.05, 20_000, 250, (a, b) => compareMeans(a, b, 0.05, 0.01).significant)) msprt++;
      if (
        peekingRun(new Rng(seed, 1), 0.05, 0.05, 20_000, 250, (a, b) => {
          const r = compareMeans(a, b, 0.05, 0.01);
          return r.variance > 0 && Math.abs(r.difference) / Math.sqrt(r.variance) > 1.96;
        })
      )
        naive++;
    }
    const rate = msprt / runs;
    const se = Math.sqrt((0.05 * 0.95) / runs);
    assert.ok(rate <= 0.05 + 2 * se, `mSPRT false positives ${msprt}/${runs}`);
    assert.ok(naive / runs > 0.15, `peeking at a z-test should inflate false positives far past 5%, got ${naive}/${runs}`);
  });

  it('finds a 5% → 6% CTR difference within 30,000 impressions per arm in most runs', () => {
    const rng = new Rng('msprt-ab', 0);
    const runs = 100;
    let found = 0;
    for (let k = 0; k < runs; k++) {
      if (peekingRun(new Rng(rng.u32(), 1), 0.05, 0.06, 30_000, 500, (a, b) => { const r = compareMeans(a, b, 0.05, 0.01); return r.significant && r.difference > 0; })) found++;
    }
    assert.ok(found >= 80, `power ${found}/${runs}`);
  });
});

describe(meanInterval.name, () => {
  it('covers the true rate at every look in at least 1 - alpha of runs', () => {
    const rng = new Rng('cs-coverage', 0);
    const runs = 300;
    let missed = 0;
    for (let k = 0; k < runs; k++) {
      const r = new Rng(rng.u32(), 1);
      let s = 0;
      for (let i = 1; i <= 10_000; i++) {
        if (r.float() < 0.05) s++;
        if (i % 200 === 0) {
          const ci = meanInterval(rateCounts(s, i), 0.05, 0.01);
          if (ci.low > 0.05 || ci.high < 0.05) {
            missed++;
            break;
          }
        }
      }
    }
    assert.ok(missed / runs <= 0.05 + 2 * Math.sqrt((0.05 * 0.95) / runs), `missed ${missed}/${runs}`);
  });
});

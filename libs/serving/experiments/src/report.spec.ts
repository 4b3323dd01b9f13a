import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOLDOUT } from './assignment';
import { EMPTY_COUNTS, experimentReport, type VariantCounts } from './report';

const counts = (impressions: number, clickedImpressions: number, extra: Partial<VariantCounts> = {}): VariantCounts => ({
  ...EMPTY_COUNTS,
  impressions,
  clickedImpressions,
  clicks: clickedImpressions,
  clickPositionSum: clickedImpressions * 3,
  ...extra,
});

describe(experimentReport.name, () => {
  it('declares the better variant the winner when the difference is clear', () => {
    const r = experimentReport({ control: counts(30_000, 1500), treatment: counts(30_000, 1800) });
    assert.equal(r.control, 'control');
    assert.equal(r.winner, 'treatment');
    const ctr = r.comparisons.find((c) => c.metric === 'ctr')!;
    assert.ok(ctr.significant && ctr.p < 0.05);
    assert.ok(Math.abs(ctr.difference - 0.01) < 1e-12);
    assert.ok(Math.abs(ctr.relative! - 0.2) < 1e-9);
    assert.ok(ctr.low > 0 && ctr.high > ctr.difference);
    assert.equal(r.variants[0]!.meanClickPosition, 3);
    assert.match(r.method, /mSPRT/);
  });

  it('declares nothing on equal counts, and the control when every variant is worse', () => {
    assert.equal(experimentReport({ a: counts(30_000, 1500), b: counts(30_000, 1510) }).winner, null);
    assert.equal(experimentReport({ a: counts(30_000, 1800), b: counts(30_000, 1500) }).winner, 'a');
  });

  it('splits alpha between the comparisons and leaves the holdout out of them', () => {
    const r = experimentReport({ [HOLDOUT]: counts(5000, 250), control: counts(30_000, 1500), b: counts(30_000, 1500), c: counts(30_000, 1500) }, { alpha: 0.1 });
    assert.equal(r.control, 'control');
    assert.equal(r.comparisonAlpha, 0.05);
    assert.deepEqual([...new Set(r.comparisons.map((c) => c.variant))], ['b', 'c']);
    assert.equal(r.variants.length, 4);
  });

  it('decides on the primary metric only, and keeps the running minimum p across looks', () => {
    const revenue = { convertedImpressions: 300, revenue: 300 * 40, revenueSq: 300 * 1600 };
    const r = experimentReport(
      { control: counts(30_000, 1500, { convertedImpressions: 300, revenue: 300 * 40, revenueSq: 300 * 1600 }), treatment: counts(30_000, 1800, revenue) },
      { primary: 'conversion' },
    );
    assert.equal(r.winner, null, 'a CTR gain does not decide a conversion experiment');
    const again = experimentReport({ control: counts(30_000, 1500), treatment: counts(30_000, 1500) }, { previous: { 'treatment:ctr': 0.001 } });
    assert.equal(again.state['treatment:ctr'], 0.001);
    assert.equal(again.winner, null, 'significant earlier, but the current estimate is 0: no direction to declare');
  });

  it('refuses a report without variants, an unknown control or a bad alpha', () => {
    assert.throws(() => experimentReport({}), /at least one variant/);
    assert.throws(() => experimentReport({ a: counts(1, 0) }, { control: 'b' }), /control "b"/);
    assert.throws(() => experimentReport({ a: counts(1, 0) }, { alpha: 2 }), /alpha/);
  });
});

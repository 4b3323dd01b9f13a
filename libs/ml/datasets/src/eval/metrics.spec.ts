import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RankMetrics } from './metrics';

const close = (actual: number | undefined, expected: number, msg?: string): void => {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${msg ?? ''} expected ${expected}, got ${actual}`);
};

describe(RankMetrics.name, () => {
  it('computes HR, NDCG, MRR, precision, recall and F1 from ranks', () => {
    const sut = new RankMetrics([1, 3, 5]);
    sut.add(2, 0); // rank 3 (1-based)
    sut.add(0, 0); // rank 1
    sut.add(7, 0); // rank 8: misses every cutoff
    const m = sut.result();
    close(m['HR@1'], 1 / 3);
    close(m['HR@3'], 2 / 3);
    close(m['HR@5'], 2 / 3);
    close(m['NDCG@3'], (1 / Math.log2(4) + 1) / 3);
    close(m['MRR'], (1 / 3 + 1 + 1 / 8) / 3);
    close(m['MRR@3'], (1 / 3 + 1) / 3);
    close(m['Recall@3'], 2 / 3);
    close(m['Precision@3'], 2 / 9);
    // F1 per case = 2PR/(P+R) with P = 1/3, R = 1 for a hit: 0.5; mean over 3 cases = 1/3.
    close(m['F1@3'], 1 / 3);
    assert.equal(sut.count, 3);
    assert.equal(sut.tiedCases, 0);
  });

  it('counts ties pessimistically, optimistically or in expectation', () => {
    // Target tied with two other items and nothing above it: ranks 0..2 possible.
    const pess = new RankMetrics([1, 2], 'pessimistic');
    const opt = new RankMetrics([1, 2], 'optimistic');
    const exp = new RankMetrics([1, 2], 'expected');
    for (const m of [pess, opt, exp]) m.add(0, 2);
    close(pess.result()['MRR'], 1 / 3);
    close(pess.result()['HR@2'], 0);
    close(opt.result()['MRR'], 1);
    close(opt.result()['HR@1'], 1);
    const e = exp.result();
    close(e['MRR'], (1 + 1 / 2 + 1 / 3) / 3);
    close(e['HR@1'], 1 / 3);
    close(e['HR@2'], 2 / 3);
    close(e['NDCG@2'], (1 + 1 / Math.log2(3)) / 3);
    close(e['MRR@2'], (1 + 1 / 2) / 3);
    assert.equal(exp.tiedCases, 1);
  });

  it('gives a constant-score model no credit under the pessimistic rule', () => {
    const sut = new RankMetrics([10]);
    sut.add(0, 99); // 100 candidates all scored the same
    assert.equal(sut.result()['HR@10'], 0);
  });

  it('rejects non-positive cutoffs', () => {
    assert.throws(() => new RankMetrics([0]), RangeError);
  });
});

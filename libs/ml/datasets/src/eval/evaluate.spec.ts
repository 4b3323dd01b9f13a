import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@seqrec/random';
import type { EvalCase, Recommender } from '../types';
import { evaluate, sampleNegatives } from './evaluate';
import { formatTable } from './table';

/** Same scores for every history. */
class FixedScores implements Recommender {
  readonly name = 'fixed';
  constructor(private readonly scores: number[]) {}
  scoreBatch(histories: Int32Array[]): Promise<Float32Array> {
    const out = new Float32Array(histories.length * this.scores.length);
    for (let b = 0; b < histories.length; b++) out.set(this.scores, b * this.scores.length);
    return Promise.resolve(out);
  }
}

const close = (actual: number | undefined, expected: number, msg = ''): void => {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-6, `${msg} expected ${expected}, got ${actual}`);
};

const caseOf = (history: number[], target: number, user = 0): EvalCase => ({ user, history: Int32Array.from(history), target });

// Five items; index 0 is padding.
const SCORES = [0, 0.9, 0.5, 0.4, 0.6, 0.1];
const dataset = { name: 'tiny', numItems: 5 };

describe(evaluate.name, () => {
  it('ranks over all items with seen items masked (hand-computed)', async () => {
    const sut = new FixedScores(SCORES);
    // Case 1: target 3 (0.4); item 1 (0.9) is seen and masked; 2 (0.5) and 4 (0.6) beat it: rank 3.
    // Case 2: target 2 (0.5); item 4 is seen; only 1 (0.9) beats it: rank 2.
    const cases = [caseOf([1], 3), caseOf([4], 2, 1)];
    const r = await evaluate(sut, cases, { dataset, ks: [1, 2, 3], split: 'test' });
    assert.equal(r.users, 2);
    assert.deepEqual(r.ks, [1, 2, 3, 10, 20]);
    close(r.metrics['HR@1'], 0);
    close(r.metrics['HR@2'], 0.5);
    close(r.metrics['HR@3'], 1);
    close(r.metrics['NDCG@2'], 1 / Math.log2(3) / 2);
    close(r.metrics['NDCG@3'], (1 / Math.log2(4) + 1 / Math.log2(3)) / 2);
    close(r.metrics['MRR'], (1 / 3 + 1 / 2) / 2);
    close(r.metrics['Recall@20'], 1);
    close(r.metrics['Precision@3'], 1 / 3);
    close(r.metrics['F1@3'], 2 / 4);
    assert.equal(r.protocol, 'full');
    assert.equal(r.dataset, 'tiny');
    assert.equal(r.model, 'fixed');
  });

  it('counts seen items as competitors when excludeSeen is false', async () => {
    const r = await evaluate(new FixedScores(SCORES), [caseOf([1], 3)], { dataset, ks: [3, 5], excludeSeen: false });
    close(r.metrics['HR@3'], 0);
    close(r.metrics['NDCG@5'], 1 / Math.log2(5));
    close(r.metrics['MRR'], 1 / 4);
  });

  it('never masks the target even when it repeats a history item', async () => {
    const r = await evaluate(new FixedScores(SCORES), [caseOf([3, 1], 3)], { dataset, ks: [3] });
    close(r.metrics['MRR'], 1 / 3);
  });

  it('applies the tie rule to tied full-ranking scores', async () => {
    const tied = new FixedScores([0, 1, 1, 1, 0, 0]);
    const cases = [caseOf([], 2)];
    const pess = await evaluate(tied, cases, { dataset, ks: [1] });
    const opt = await evaluate(tied, cases, { dataset, ks: [1], ties: 'optimistic' });
    const exp = await evaluate(tied, cases, { dataset, ks: [1], ties: 'expected' });
    close(pess.metrics['MRR'], 1 / 3);
    close(opt.metrics['MRR'], 1);
    close(exp.metrics['MRR'], (1 + 1 / 2 + 1 / 3) / 3);
    assert.equal(pess.tiedCases, 1);
  });

  it('ranks against every unseen item when fewer exist than the negatives asked for (seed-independent)', async () => {
    // Unseen non-target items are {2, 4, 5}: all three are the negatives whatever the seed.
    const sut = new FixedScores(SCORES);
    for (const seed of [1, 2, 3]) {
      const r = await evaluate(sut, [caseOf([1], 3)], { dataset, protocol: 'sampled', negatives: 100, seed, ks: [1, 2, 3] });
      close(r.metrics['HR@2'], 0);
      close(r.metrics['HR@3'], 1);
      close(r.metrics['MRR'], 1 / 3);
      assert.equal(r.negatives, 100);
      assert.equal(r.seed, seed);
    }
  });

  it('samples negatives with a fixed seed and ranks the target among them', async () => {
    const N = 200;
    const scores = Array.from({ length: N + 1 }, (_, i) => (i === 0 ? 0 : i)); // item i scores i
    const sut = new FixedScores(scores);
    const cases = [caseOf([190, 5, 7], 100), caseOf([1, 2], 150, 1)];
    const opts = { dataset: { name: 's', numItems: N }, protocol: 'sampled' as const, negatives: 10, seed: 7, ks: [1, 5, 10] };
    const r = await evaluate(sut, cases, opts);

    // Replay the sampler with the same seed: same draws, in case order.
    const rng = new Rng(7);
    const stamp = new Int32Array(N + 1);
    const out = new Int32Array(10);
    const ranks = cases.map((c, k) => {
      const n = sampleNegatives(c, N, 10, rng, stamp, k + 1, out, new Int32Array(N));
      assert.equal(n, 10);
      const negs = Array.from(out);
      assert.equal(new Set(negs).size, 10, 'distinct negatives');
      for (const j of negs) assert.ok(j !== c.target && !c.history.includes(j) && j >= 1 && j <= N);
      return negs.filter((j) => j > c.target).length;
    });
    close(r.metrics['MRR'], (1 / (ranks[0]! + 1) + 1 / (ranks[1]! + 1)) / 2);
    close(r.metrics['HR@5'], ranks.filter((x) => x < 5).length / 2);

    const again = await evaluate(sut, cases, { ...opts, batchSize: 1 });
    assert.deepEqual(again.metrics, r.metrics, 'same seed, any batch size: same result');
  });

  it('draws negatives uniformly from the unseen items', () => {
    const N = 50;
    const c = caseOf(Array.from({ length: 20 }, (_, i) => i + 1), 21);
    const rng = new Rng(3);
    const stamp = new Int32Array(N + 1);
    const counts = new Array<number>(N + 1).fill(0);
    const out = new Int32Array(5);
    const draws = 6000;
    for (let k = 1; k <= draws; k++) {
      sampleNegatives(c, N, 5, rng, stamp, k, out, new Int32Array(N));
      for (const j of out) counts[j]!++;
    }
    for (let j = 1; j <= 21; j++) assert.equal(counts[j], 0, `item ${j} is seen or the target`);
    const expected = (draws * 5) / 29;
    for (let j = 22; j <= N; j++) assert.ok(Math.abs(counts[j]! - expected) < 0.15 * expected, `item ${j}: ${counts[j]} vs ${expected}`);
  });

  it('gives the same full-ranking result for any batch size', async () => {
    const N = 40;
    const rng = new Rng(1);
    const scores = Array.from({ length: N + 1 }, () => rng.float());
    const cases = Array.from({ length: 25 }, (_, u) => caseOf([1 + (u % N), 1 + ((u * 7) % N)], 1 + ((u * 13 + 5) % N), u));
    const a = await evaluate(new FixedScores(scores), cases, { dataset: { name: 'r', numItems: N }, batchSize: 1 });
    const b = await evaluate(new FixedScores(scores), cases, { dataset: { name: 'r', numItems: N }, batchSize: 7 });
    assert.deepEqual(a.metrics, b.metrics);
  });

  it('ranks a NaN target last', async () => {
    const r = await evaluate(new FixedScores([0, 1, Number.NaN, 0.5, 0.2, 0.1]), [caseOf([], 2)], { dataset });
    close(r.metrics['MRR'], 1 / 5);
  });

  it('rejects a score matrix of the wrong size', async () => {
    await assert.rejects(evaluate(new FixedScores([0, 1, 2]), [caseOf([], 1)], { dataset }), RangeError);
  });
});

describe(formatTable.name, () => {
  it('prints aligned rows naming dataset, split, protocol and model', async () => {
    const full = await evaluate(new FixedScores(SCORES), [caseOf([1], 3)], { dataset, split: 'valid' });
    const sampled = await evaluate(new FixedScores(SCORES), [caseOf([1], 3)], { dataset, protocol: 'sampled', model: 'a-longer-name' });
    const text = formatTable([full, sampled], ['HR@10', 'MRR']);
    const lines = text.split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^dataset\s+split\s+protocol\s+model\s+users\s+HR@10\s+MRR\s+fit s\s+eval s$/);
    assert.match(lines[2]!, /^tiny\s+valid\s+full\s+fixed\s+1\s+1\.0000\s+0\.3333/);
    assert.match(lines[3]!, /sampled-100\s+a-longer-name/);
    assert.equal(lines[1]!.length, lines[0]!.length);
    assert.equal(lines[2]!.length, lines[3]!.length);
  });
});

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { evaluate } from '../eval/evaluate';
import { Rng } from '@seqrec/random';
import { leaveOneOut, trainingSequences } from '../split';
import type { LeaveOneOutSplit, SequenceDataset } from '../types';
import { BprMfRecommender } from './bpr-mf';
import type { FittableRecommender } from './common';
import { CoocRecommender } from './cooc';
import { buildTopKGraph } from './item-graph';
import { ItemKnnRecommender } from './itemknn';
import { PopRecommender } from './pop';

/**
 * Synthetic pattern: items on a cycle of 60, every user walks it (item i is followed by i + 1)
 * from a random start for 6..14 steps. Popularity is flat, so it cannot beat chance, while the
 * next item is fully determined by the last one.
 */
function cycleDataset(users = 400, items = 60, seed = 5): SequenceDataset {
  const rng = new Rng(seed);
  const sequences = Array.from({ length: users }, () => {
    const start = rng.int(items);
    const n = 6 + rng.int(9);
    return Int32Array.from({ length: n }, (_, t) => ((start + t) % items) + 1);
  });
  return {
    name: 'cycle',
    numItems: items,
    itemIds: ['', ...Array.from({ length: items }, (_, i) => String(i + 1))],
    users: sequences.map((_, u) => String(u)),
    sequences,
  };
}

let ds: SequenceDataset;
let split: LeaveOneOutSplit;
let popHr = 0;

async function testHr10(model: FittableRecommender<object>): Promise<number> {
  model.fit(trainingSequences(split, 'test'), ds.numItems);
  const r = await evaluate(model, split.test, { dataset: ds });
  return r.metrics['HR@10']!;
}

before(async () => {
  ds = cycleDataset();
  split = leaveOneOut(ds);
  popHr = await testHr10(new PopRecommender());
});

describe(PopRecommender.name, () => {
  it('scores every item by its training count, the same for every history', async () => {
    const sut = new PopRecommender().fit([Int32Array.of(1, 2, 2), Int32Array.of(2, 3)], 4);
    const out = await sut.scoreBatch([Int32Array.of(1), Int32Array.of()]);
    assert.deepEqual(Array.from(out), [0, 1, 3, 1, 0, 0, 1, 3, 1, 0]);
  });

  it('is near chance on the cycle pattern', () => {
    assert.ok(popHr < 0.35, `pop HR@10 ${popHr}`);
  });

  it('requires numItems with plain sequences and items inside it', () => {
    assert.throws(() => new PopRecommender().fit([Int32Array.of(1)]), RangeError);
    assert.throws(() => new PopRecommender().fit([Int32Array.of(5)], 4), RangeError);
  });

  it('refuses to score before fit', async () => {
    await assert.rejects(async () => new PopRecommender().scoreBatch([Int32Array.of(1)]), /fit\(\)/);
  });
});

describe(ItemKnnRecommender.name, () => {
  it('computes shrunk cosine similarities', () => {
    // Users {1,2}, {1,2}, {1,3}: |U1| = 3, |U2| = 2, |U1 ∩ U2| = 2.
    const sut = new ItemKnnRecommender({ shrink: 1 }).fit([Int32Array.of(1, 2), Int32Array.of(2, 1), Int32Array.of(1, 3)], 3);
    const g = sut.similarities;
    const of = (i: number): Array<[number, number]> => Array.from(g.neighbours.subarray(g.offsets[i]!, g.offsets[i + 1]!), (j, k) => [j, g.weights[g.offsets[i]! + k]!]);
    const n1 = of(1);
    assert.equal(n1[0]![0], 2);
    assert.ok(Math.abs(n1[0]![1] - 2 / (Math.sqrt(3) * Math.sqrt(2) + 1)) < 1e-6);
    assert.equal(n1[1]![0], 3);
    assert.deepEqual(of(2).map(([j]) => j), [1]);
  });

  it('learns the cycle far above popularity', async () => {
    const hr = await testHr10(new ItemKnnRecommender({ decay: 0.8 }));
    assert.ok(hr > 0.8 && hr > 2 * popHr, `itemknn HR@10 ${hr} vs pop ${popHr}`);
  });
});

describe(CoocRecommender.name, () => {
  it('learns the cycle far above popularity', async () => {
    const hr = await testHr10(new CoocRecommender());
    assert.ok(hr > 0.95 && hr > 2 * popHr, `cooc HR@10 ${hr} vs pop ${popHr}`);
  });

  it('follows direction: scores the successor of the last item highest', async () => {
    const sut = new CoocRecommender({ window: 1, lastN: 1 }).fit([Int32Array.of(1, 2, 3), Int32Array.of(1, 2, 4)], 4);
    const out = await sut.scoreBatch([Int32Array.of(2)]);
    assert.ok(out[3]! > out[1]! && out[4]! > out[1]!);
    assert.ok(Math.abs(out[3]! - out[4]!) < 1e-9);
  });
});

describe(BprMfRecommender.name, () => {
  it('learns the cycle far above popularity', async () => {
    const hr = await testHr10(new BprMfRecommender({ factors: 16, epochs: 40, learningRate: 0.05, seed: 1 }));
    assert.ok(hr > 0.6 && hr > 2 * popHr, `bpr-mf HR@10 ${hr} vs pop ${popHr}`);
  });

  it('folds in unseen histories and reproduces results for a seed', async () => {
    const train = trainingSequences(split, 'test');
    const a = new BprMfRecommender({ factors: 8, epochs: 5, seed: 3 }).fit(train, ds.numItems);
    const b = new BprMfRecommender({ factors: 8, epochs: 5, seed: 3 }).fit(train, ds.numItems);
    const unseen = Int32Array.of(10, 11, 12);
    const [sa, sb] = [await a.scoreBatch([unseen]), await b.scoreBatch([Int32Array.from(unseen)])];
    assert.deepEqual(sa, sb);
    assert.equal(a.served.foldedIn, 1);
    // The fold-in of an unseen walk 10, 11, 12 should prefer its neighbourhood to the far side.
    assert.ok(sa[13]! > sa[40]!, `score(13) ${sa[13]} vs score(40) ${sa[40]}`);
    await a.scoreBatch([train[0]!]);
    assert.equal(a.served.known, 1);
  });

  it('rejects bad options', () => {
    assert.throws(() => new BprMfRecommender({ factors: 0 }), RangeError);
  });
});

describe(buildTopKGraph.name, () => {
  it('keeps the k strongest neighbours, strongest first, deterministic on ties', () => {
    const raw: Record<number, Array<[number, number]>> = {
      1: [
        [2, 0.5],
        [3, 0.9],
        [4, 0.5],
        [5, 0.1],
      ],
      2: [],
    };
    const g = buildTopKGraph(
      5,
      3,
      (i, acc, touched) => {
        let m = 0;
        for (const [j, w] of raw[i] ?? []) {
          acc[j] = w;
          touched[m++] = j;
        }
        return m;
      },
      (_i, _j, w) => w,
    );
    assert.deepEqual(Array.from(g.neighbours.subarray(g.offsets[1]!, g.offsets[2]!)), [3, 2, 4]);
    assert.equal(g.offsets[3]! - g.offsets[2]!, 0);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaveOneOut, sessionCases, trainingSequences, trainingTypes } from './split';
import type { SequenceDataset } from './types';

function dataset(seqs: number[][], withTypes = false): SequenceDataset {
  const numItems = Math.max(...seqs.flat());
  const ds: SequenceDataset = {
    name: 'toy',
    numItems,
    itemIds: ['', ...Array.from({ length: numItems }, (_, i) => `i${i + 1}`)],
    users: seqs.map((_, u) => `u${u}`),
    sequences: seqs.map((s) => Int32Array.from(s)),
  };
  if (withTypes) ds.types = seqs.map((s) => Uint8Array.from(s, (x) => x % 5));
  return ds;
}

const arr = (a: ArrayLike<number>): number[] => Array.from(a);

describe(leaveOneOut.name, () => {
  it('holds out the last item for test and the second-to-last for validation', () => {
    const sut = leaveOneOut(dataset([[1, 2, 3, 4, 5]]));
    assert.deepEqual(arr(sut.train[0]!), [1, 2, 3]);
    assert.equal(sut.valid.length, 1);
    assert.deepEqual(arr(sut.valid[0]!.history), [1, 2, 3]);
    assert.equal(sut.valid[0]!.target, 4);
    assert.deepEqual(arr(sut.test[0]!.history), [1, 2, 3, 4]);
    assert.equal(sut.test[0]!.target, 5);
    assert.equal(sut.test[0]!.user, 0);
  });

  it('keeps users shorter than minLength (default 3) whole in train, without cases', () => {
    const sut = leaveOneOut(dataset([[1], [2, 3], [4, 5, 6], [7, 8, 9, 1]]));
    assert.deepEqual(sut.train.map(arr), [[1], [2, 3], [4], [7, 8]]);
    assert.deepEqual(
      sut.valid.map((c) => [c.user, arr(c.history), c.target]),
      [
        [2, [4], 5],
        [3, [7, 8], 9],
      ],
    );
    assert.deepEqual(
      sut.test.map((c) => [c.user, arr(c.history), c.target]),
      [
        [2, [4, 5], 6],
        [3, [7, 8, 9], 1],
      ],
    );
    assert.equal(sut.minLength, 3);
  });

  it('honours a larger minLength (pmixer/SASRec.pytorch uses 4)', () => {
    const sut = leaveOneOut(dataset([[4, 5, 6], [7, 8, 9, 1]]), { minLength: 4 });
    assert.deepEqual(arr(sut.train[0]!), [4, 5, 6]);
    assert.deepEqual(
      sut.test.map((c) => c.user),
      [1],
    );
  });

  it('rejects a minLength that would leave an empty training history', () => {
    assert.throws(() => leaveOneOut(dataset([[1, 2, 3]]), { minLength: 2 }), RangeError);
  });

  it('carries event types alongside items', () => {
    const sut = leaveOneOut(dataset([[1, 2, 3, 4]], true));
    assert.deepEqual(arr(sut.trainTypes![0]!), [1, 2]);
    assert.deepEqual(arr(sut.test[0]!.historyTypes!), [1, 2, 3]);
    assert.deepEqual(arr(sut.valid[0]!.historyTypes!), [1, 2]);
  });

  it('handles an empty dataset', () => {
    const sut = leaveOneOut({ name: 'e', numItems: 1, itemIds: ['', 'a'], users: [], sequences: [] });
    assert.equal(sut.train.length + sut.valid.length + sut.test.length, 0);
  });
});

describe(trainingSequences.name, () => {
  it('adds the validation item for the test phase', () => {
    const split = leaveOneOut(dataset([[1, 2], [3, 4, 5, 6]], true));
    assert.deepEqual(trainingSequences(split, 'valid').map(arr), [[1, 2], [3, 4]]);
    assert.deepEqual(trainingSequences(split, 'test').map(arr), [[1, 2], [3, 4, 5]]);
    assert.deepEqual(trainingTypes(split, 'test')!.map(arr), [[1, 2], [3, 4, 0]]);
  });
});

describe(sessionCases.name, () => {
  it('predicts every item after the first from its prefix', () => {
    const cases = sessionCases(dataset([[1, 2, 3], [4], [5, 5]]));
    assert.deepEqual(
      cases.map((c) => [c.user, arr(c.history), c.target]),
      [
        [0, [1], 2],
        [0, [1, 2], 3],
        [2, [5], 5],
      ],
    );
  });
});

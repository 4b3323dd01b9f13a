import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvError } from '@seqrec/config';
import { AUTO_INDEX_MIN_ITEMS, indexLists, indexMinRecall, resolveIndexLists } from './scoring.env';

describe('SCORER_INDEX_LISTS', () => {
  it('reads auto or a non-negative integer, and names the variable otherwise', () => {
    assert.equal(indexLists({ SCORER_INDEX_LISTS: 'auto' }), 'auto');
    assert.equal(indexLists({ SCORER_INDEX_LISTS: ' 256 ' }), 256);
    assert.equal(indexLists({ SCORER_INDEX_LISTS: '0' }), 0);
    for (const bad of ['', '-1', '2.5', 'yes', '1e3']) {
      assert.throws(() => indexLists({ SCORER_INDEX_LISTS: bad }), (err: unknown) => err instanceof EnvError && /SCORER_INDEX_LISTS/.test(err.message), bad);
    }
  });

  it('auto: no index below the threshold, √items (rounded) from it on; a number is capped by the item count', () => {
    assert.equal(resolveIndexLists('auto', AUTO_INDEX_MIN_ITEMS - 1), 0);
    assert.equal(resolveIndexLists('auto', 3_706), 0, 'an ML-1M-sized model is served exact');
    assert.equal(resolveIndexLists('auto', AUTO_INDEX_MIN_ITEMS), Math.round(Math.sqrt(AUTO_INDEX_MIN_ITEMS)));
    assert.equal(resolveIndexLists('auto', 50_000), 224);
    assert.equal(resolveIndexLists('auto', 1_000_000), 1_000);
    assert.equal(resolveIndexLists(0, 50_000), 0);
    assert.equal(resolveIndexLists(256, 50_000), 256);
    assert.equal(resolveIndexLists(256, 30), 30);
  });

  it('SCORER_INDEX_MIN_RECALL lies in [0, 1]', () => {
    assert.equal(indexMinRecall({ SCORER_INDEX_MIN_RECALL: 0.98 }), 0.98);
    assert.throws(() => indexMinRecall({ SCORER_INDEX_MIN_RECALL: 1.5 }), /SCORER_INDEX_MIN_RECALL/);
    assert.throws(() => indexMinRecall({ SCORER_INDEX_MIN_RECALL: Number.NaN }), /SCORER_INDEX_MIN_RECALL/);
  });
});

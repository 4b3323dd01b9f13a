import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadDataset } from './loaders/load';
import { datasetPath, datasetsRoot, KNOWN_DATASETS } from './registry';
import { leaveOneOut } from './split';
import { datasetStats } from './vocabulary';

describe(datasetsRoot.name, () => {
  it('finds the real ML-1M (SASRec) file and it has the counts of its SOURCE.md', async () => {
    const path = datasetPath('ml-1m');
    assert.ok(existsSync(path), `ML-1M not found at ${path}: set SEQREC_DATASETS to the shared datasets folder`);
    const known = KNOWN_DATASETS['ml-1m']!;
    const ds = await loadDataset(path, 'auto', { name: known.name });
    const stats = datasetStats(ds);
    assert.equal(stats.users, 6040);
    assert.equal(stats.items, 3416);
    assert.equal(stats.itemsSeen, 3416);
    assert.equal(stats.interactions, 999611);
    assert.equal(stats.minLength, 18);
    assert.equal(stats.maxLength, 2277);
    const split = leaveOneOut(ds);
    assert.equal(split.test.length, 6040);
    assert.equal(split.valid.length, 6040);
  });
});

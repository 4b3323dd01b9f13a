import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FsModelStore, newVersion, type ArtifactManifest } from './model-store';

const manifest = (version: string): ArtifactManifest => ({
  model: 'sasrec',
  version,
  createdAt: new Date().toISOString(),
  data: 'test',
  metrics: { 'ndcg@10': 0.1 },
  backend: 'cpu',
});

describe(FsModelStore.name, () => {
  it('publishes artifacts atomically, lists and promotes them', async () => {
    const sut = new FsModelStore(await mkdtemp(join(tmpdir(), 'store-')));
    assert.deepEqual(await sut.versions('sasrec'), []);
    assert.equal(await sut.current('sasrec'), null);
    const dir = await sut.publish(manifest('v1'), async (d) => writeFile(join(d, 'weights.bin'), 'w'));
    assert.equal(await readFile(join(dir, 'weights.bin'), 'utf8'), 'w');
    await assert.rejects(sut.publish(manifest('v2'), async () => { throw new Error('disk full'); }), /disk full/);
    assert.deepEqual(await sut.versions('sasrec'), ['v1']);
    assert.deepEqual(await readdir(join(sut.root, 'sasrec')), ['v1'], 'no half-written artifact left behind');
    await sut.promote('sasrec', 'v1');
    assert.equal(await sut.current('sasrec'), 'v1');
    await assert.rejects(sut.promote('sasrec', 'missing'));
    assert.throws(() => sut.location('../etc', 'v1'), RangeError);
  });

  it('makes sortable version ids', () => {
    const a = newVersion(new Date('2026-01-01T00:00:00Z'));
    const b = newVersion(new Date('2026-01-01T00:00:01Z'));
    assert.match(a, /^20260101T000000Z-[0-9a-f]{1,4}$/);
    assert.ok(a < b);
  });
});

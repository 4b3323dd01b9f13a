import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FsModelStore, TrainedBeforeDeletionError, UnknownVersionError, describeModels, newVersion, trainedAfter, type ArtifactManifest } from './model-store';

const manifest = (version: string): ArtifactManifest => ({
  model: 'sasrec',
  version,
  createdAt: new Date().toISOString(),
  data: 'test',
  metrics: { 'ndcg@10': 0.1 },
  backend: 'cpu',
});

describe(FsModelStore.name, () => {
  it('refuses to promote a version whose data was read before the latest user deletion, and keeps the latest deletion', async () => {
    const sut = new FsModelStore(await mkdtemp(join(tmpdir(), 'store-')));
    const t = Date.parse('2026-12-01T10:00:00Z');
    const at = (v: string, dataAt: number) => ({ ...manifest(v), dataAt: new Date(dataAt).toISOString() });
    await sut.publish(at('v1', t), async () => undefined);
    await sut.publish(at('v2', t + 120_000), async () => undefined);
    await sut.publish({ ...manifest('v0'), createdAt: new Date(t - 1).toISOString() }, async () => undefined);
    assert.equal(await sut.latestDeletion(), null);
    await sut.promote('sasrec', 'v1');
    await sut.recordDeletion(t + 60_000);
    await sut.recordDeletion(t + 30_000); // an older one (a replayed topic) does not move it back
    assert.equal(await sut.latestDeletion(), t + 60_000);
    await assert.rejects(sut.promote('sasrec', 'v1'), (err: unknown) => err instanceof TrainedBeforeDeletionError && /before the user deletion of 2026-12-01T10:01:00.000Z/.test(err.message));
    await assert.rejects(sut.promote('sasrec', 'v0'), TrainedBeforeDeletionError, 'an artifact without dataAt: its createdAt stands for it');
    assert.equal(await sut.current('sasrec'), 'v1', 'the refused promotion changed nothing');
    await sut.promote('sasrec', 'v2');
    assert.equal(await sut.current('sasrec'), 'v2');
    assert.equal(trainedAfter(at('x', t + 60_000), t + 60_000), false, 'data read at the instant of the deletion may hold the user');
    assert.equal(trainedAfter(at('x', t), null), true);
  });

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

  it('pins an operator\'s promotion until a promotion without a pin, and never pins a version CURRENT does not name', async () => {
    const sut = new FsModelStore(await mkdtemp(join(tmpdir(), 'store-')));
    for (const v of ['v1', 'v2', 'v3']) await sut.publish(manifest(v), async () => undefined);
    assert.equal(await sut.pinned('sasrec'), null);
    await sut.promote('sasrec', 'v2');
    assert.equal(await sut.pinned('sasrec'), null, 'a training run\'s promotion pins nothing');
    const before = Date.now();
    await sut.promote('sasrec', 'v1', { pin: true }); // the rollback
    assert.equal(await sut.current('sasrec'), 'v1');
    const pin = await sut.pinned('sasrec');
    assert.equal(pin?.version, 'v1');
    assert.ok(Date.parse(pin!.at) >= before - 1_000 && Date.parse(pin!.at) <= Date.now() + 1_000, pin!.at);
    await sut.promote('sasrec', 'v1', { pin: true });
    assert.equal((await sut.pinned('sasrec'))?.version, 'v1', 'promoting the pinned version again keeps it pinned');
    await sut.promote('sasrec', 'v3');
    assert.equal(await sut.current('sasrec'), 'v3');
    assert.equal(await sut.pinned('sasrec'), null, 'a promotion without a pin releases it');
    assert.deepEqual((await readdir(join(sut.root, 'sasrec'))).filter((f) => f.includes('tmp')), [], 'no temporary file left');

    // a crash between the pin and CURRENT leaves a pin naming another version: it holds nothing
    await writeFile(join(sut.root, 'sasrec', 'PINNED'), `${JSON.stringify({ version: 'v2', at: new Date().toISOString() })}\n`);
    assert.equal(await sut.pinned('sasrec'), null);
    const [listed] = await describeModels(sut);
    assert.equal(listed!.pinned, null);
  });

  it('refuses an unknown or malformed version with UnknownVersionError, changing nothing', async () => {
    const sut = new FsModelStore(await mkdtemp(join(tmpdir(), 'store-')));
    await sut.publish(manifest('v1'), async () => undefined);
    await sut.promote('sasrec', 'v1', { pin: true });
    for (const v of ['v9', '../v1', '.v1', '']) {
      await assert.rejects(sut.promote('sasrec', v, { pin: true }), (err: unknown) => err instanceof UnknownVersionError && err.version === v, v);
    }
    await assert.rejects(sut.promote('gru4rec', 'v1'), UnknownVersionError, 'a version of another model');
    assert.equal(await sut.current('sasrec'), 'v1');
    assert.equal((await sut.pinned('sasrec'))?.version, 'v1');
  });

  it('lists which versions can still be promoted after a user deletion, and the pin', async () => {
    const sut = new FsModelStore(await mkdtemp(join(tmpdir(), 'store-')));
    const t = Date.parse('2026-12-01T10:00:00Z');
    await sut.publish({ ...manifest('v1'), dataAt: new Date(t).toISOString() }, async () => undefined);
    await sut.publish({ ...manifest('v2'), dataAt: new Date(t + 120_000).toISOString() }, async () => undefined);
    await sut.promote('sasrec', 'v2', { pin: true });
    await sut.recordDeletion(t + 60_000);
    const [m] = await describeModels(sut);
    assert.deepEqual(m!.versions.map((v) => [v.version, v.dataAt, v.promotable]), [
      ['v1', '2026-12-01T10:00:00.000Z', false],
      ['v2', '2026-12-01T10:02:00.000Z', true],
    ]);
    assert.equal(m!.pinned?.version, 'v2');
    await assert.rejects(sut.promote('sasrec', 'v1', { pin: true }), TrainedBeforeDeletionError);
    assert.equal((await sut.pinned('sasrec'))?.version, 'v2', 'a refused rollback leaves the pin as it was');
  });

  it('describes every model with its versions, metrics and training curves', async () => {
    const sut = new FsModelStore(await mkdtemp(join(tmpdir(), 'store-')));
    const curve = [{ epoch: 1, loss: 5.2, seconds: 1.5, validNdcg10: 0.05 }, { epoch: 2, loss: 4.9, seconds: 1.4, validNdcg10: 0.07 }];
    await sut.publish({ ...manifest('v1'), trainingCurve: curve }, async () => undefined);
    await sut.publish(manifest('v2'), async () => undefined);
    await sut.publish({ ...manifest('b1'), model: 'pop' }, async () => undefined);
    await sut.promote('sasrec', 'v1');
    const listed = await describeModels(sut, ['gru4rec']);
    assert.deepEqual(listed.map((m) => [m.model, m.current, m.versions.map((v) => v.version)]), [
      ['pop', null, ['b1']],
      ['sasrec', 'v1', ['v1', 'v2']],
    ], 'models with versions only, sorted; versions oldest first');
    const [v1, v2] = listed[1]!.versions;
    assert.deepEqual(v1!.trainingCurve, curve);
    assert.equal(v1!.current, true);
    assert.equal(v2!.trainingCurve, null, 'an artifact without a curve says so');
    assert.deepEqual(v2!.metrics, { 'ndcg@10': 0.1 });
  });

  it('makes sortable version ids', () => {
    const a = newVersion(new Date('2026-01-01T00:00:00Z'));
    const b = newVersion(new Date('2026-01-01T00:00:01Z'));
    assert.match(a, /^20260101T000000Z-[0-9a-f]{1,4}$/);
    assert.ok(a < b);
  });
});

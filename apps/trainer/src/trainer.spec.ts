import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Bus } from '@seqrec/bus';
import { TOPICS, type ModelPromotedV1 } from '@seqrec/contracts';
import { FsModelStore, TrainedBeforeDeletionError } from '@seqrec/model-store';
import { BUS, createService, scrapeMetrics } from '@seqrec/nest-platform';
import { TrainingService } from '@seqrec/training';
import { writeGeneratedDataset } from '@seqrec/training/testing';
import { trainerService } from './service';

/** The trainer in-process on the in-memory bus, training a tiny GRU4Rec from a generated dataset file. */
describe('trainer service', () => {
  let app: NestFastifyApplication;
  let storeDir: string;
  const promoted: ModelPromotedV1[] = [];

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trainer-'));
    storeDir = join(dir, 'store');
    const data = await writeGeneratedDataset(join(dir, 'data.txt'), { users: 60, items: 60, events: 3_000, seed: 5 });
    ({ app } = await createService(trainerService, {
      LOG_LEVEL: 'error',
      MODEL_STORE_DIR: storeDir,
      TRAIN_DATA_PATH: data,
      TRAIN_MODEL: 'gru4rec',
      TRAIN_EPOCHS: '2',
      TRAIN_DIM: '16',
      TRAIN_MAX_LEN: '20',
      TRAIN_BATCH_SIZE: '32',
      TRAIN_LR: '0.01',
      TRAIN_ARCH: 'units=24',
    }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await app.get<Bus>(BUS).subscribe({ groupId: 'test-scorer', topics: [TOPICS.MODELS] }, async (batch) => {
      for (const m of batch.messages) promoted.push(JSON.parse(String(m.value)) as ModelPromotedV1);
    });
  });

  after(async () => app.close());

  const inject = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app.getHttpAdapter().getInstance().inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function finished(id: string) {
    for (let i = 0; i < 600; i++) {
      const res = await inject('GET', `/v1/train/runs/${id}`);
      assert.equal(res.statusCode, 200);
      if (res.json().status !== 'running') return res.json();
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${id} did not finish`);
  }

  it('trains on demand (202, 409 while running), promotes the first version and announces it on the models topic', async () => {
    const res = await inject('POST', '/v1/train');
    assert.equal(res.statusCode, 202, res.body);
    const { runId, model } = res.json();
    assert.equal(model, 'gru4rec');
    const busy = await inject('POST', '/v1/train');
    assert.equal(busy.statusCode, 409);
    assert.equal(busy.json().runId, runId);

    const run = await finished(runId);
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.result.promoted, true);
    assert.equal(run.result.backend, 'tensorflow');
    assert.ok(run.result.metrics['test.full.NDCG@10'] >= 0);
    // TRAIN_ARCH reached the model: a GRU of 24 units projected to the 16-wide embedding.
    const saved = JSON.parse(await readFile(join(run.result.location, 'config.json'), 'utf8'));
    assert.equal(saved.config.units, 24);
    assert.equal(saved.config.dim, 16);

    for (let i = 0; i < 100 && promoted.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(promoted.length, 1);
    assert.equal(promoted[0]!.model, 'gru4rec');
    assert.equal(promoted[0]!.version, run.result.version);
    assert.equal(promoted[0]!.uri, run.result.location);
    assert.equal(promoted[0]!.metrics['valid.full.NDCG@10'], run.result.metrics['valid.full.NDCG@10']);

    const models = (await inject('GET', '/v1/models')).json().models;
    assert.equal(models.length, 1);
    assert.equal(models[0].model, 'gru4rec');
    assert.equal(models[0].current, run.result.version);
    assert.equal(models[0].versions[0].current, true);
  });

  it('a second run on the same data warm-starts and is not promoted unless better; no announcement then', async () => {
    const before = promoted.length;
    const res = await inject('POST', '/v1/train', { epochs: 1 });
    assert.equal(res.statusCode, 202);
    const run = await finished(res.json().runId);
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.result.warmStart.used, true);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(promoted.length - before, run.result.promoted ? 1 : 0);
  });

  it('refuses to start with a malformed TRAIN_ARCH, naming it', async () => {
    await assert.rejects(
      createService(trainerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: storeDir, TRAIN_ARCH: 'blocks=2,heads' }),
      /TRAIN_ARCH: expected key=value pairs separated by commas, got "heads"/,
    );
  });

  it('answers 400 for a bad body and 404 for an unknown run', async () => {
    const bad = await inject('POST', '/v1/train', { model: 'transformer' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'model');
    assert.equal((await inject('GET', '/v1/train/runs/nope')).statusCode, 404);
  });

  it('exports runs by outcome, duration, last metrics and the backend', async () => {
    const metrics = await scrapeMetrics(app);
    assert.match(metrics, /seqrec_trainer_runs_total\{model="gru4rec",outcome="promoted",service="trainer"\} [12]\n/);
    assert.match(metrics, /seqrec_trainer_run_duration_seconds_count\{[^}]*model="gru4rec"[^}]*\} 2\n/);
    assert.match(metrics, /seqrec_trainer_last_metric_ratio\{model="gru4rec",split="test",protocol="full",metric="NDCG@10",service="trainer"\} [\d.e-]+/);
    assert.match(metrics, /seqrec_trainer_backend_info\{backend="tensorflow",native="true",service="trainer"\} 1/);
  });
});

/** The trainer on the in-memory bus training from the events topic: a user deletion schedules the retraining that forgets them. */
describe('trainer service: retraining after a user deletion', () => {
  let app: NestFastifyApplication;
  let store: FsModelStore;
  const USERS = 30;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trainer-deletion-'));
    store = new FsModelStore(join(dir, 'store'));
    ({ app } = await createService(trainerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: store.root, TRAIN_MODEL: 'pop', TRAIN_ISOLATION: 'inline' }));
    await app.init();
    const t = Date.now() - 3_600_000;
    const events = [];
    for (let u = 0; u < USERS; u++) {
      for (let j = 0; j < 4; j++) events.push({ eventId: `e${u}-${j}`, userId: `user-${u}`, type: 'view', itemId: `i${(u + j) % 12}`, ts: t + j * 1_000 });
    }
    await app.get<Bus>(BUS).publish(events.map((e) => ({ topic: TOPICS.EVENTS, key: e.userId, value: JSON.stringify(e) })));
  });

  after(async () => app?.close());

  const manifests = async () => {
    const all = await Promise.all((await store.versions('pop')).map((v) => store.manifest('pop', v)));
    return all.sort((a, b) => Date.parse(a.dataAt!) - Date.parse(b.dataAt!));
  };
  const users = (m: { details?: Record<string, unknown> }) => (m.details?.['dataset'] as { users: number }).users;

  it('a deletion during a run retrains after it, without the user; the older versions can no longer be promoted', async () => {
    const training = app.get(TrainingService);
    const first = training.start('api');
    await training.idle();
    assert.equal(first.status, 'succeeded', first.error);
    const second = training.start('api');
    // the deletion arrives while the second run reads or trains: it may have read the user, so the
    // retraining waits for it and runs after it
    const at = Date.now();
    await app.get<Bus>(BUS).publish([{ topic: TOPICS.USER_DELETIONS, key: 'user-0', value: JSON.stringify({ userId: 'user-0', at, objection: false }) }]);
    for (let i = 0; i < 300 && !training.retrainScheduled && second.status === 'running'; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(training.retrainScheduled, true, 'scheduled while the second run is in progress');
    for (let i = 0; i < 1_000 && (await store.versions('pop')).length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await training.idle();
    assert.equal(second.status, 'succeeded', second.error);
    const all = await manifests();
    assert.equal(all.length, 3, 'the first run, the second, the retraining after it');
    assert.equal(users(all[0]!), USERS, 'the first run had the user');
    assert.equal(users(all[2]!), USERS - 1, 'the retraining did not');
    assert.ok(Date.parse(all[2]!.dataAt!) > at);
    assert.equal(await store.latestDeletion(), at);
    const current = await store.manifest('pop', (await store.current('pop'))!);
    assert.ok(Date.parse(current.dataAt!) > at, 'the promoted version was trained after the deletion');
    assert.equal(users(current), USERS - 1);
    await assert.rejects(store.promote('pop', all[0]!.version), TrainedBeforeDeletionError);
  });
});

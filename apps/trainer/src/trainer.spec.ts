import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Bus } from '@seqrec/bus';
import { TOPICS, type ModelPromotedV1 } from '@seqrec/contracts';
import { BUS, createService, scrapeMetrics } from '@seqrec/nest-platform';
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

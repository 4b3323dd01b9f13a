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
import { TrainingService, type TrainingRun } from '@seqrec/training';
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

/** An operator's promotion through the API on the in-memory bus: a rollback, its pin, its refusals. */
describe('trainer service: promotion by an operator (rollback)', () => {
  let app: NestFastifyApplication;
  let store: FsModelStore;
  const announced: ModelPromotedV1[] = [];
  const ADMIN = 'admin-key-for-rollback';

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trainer-rollback-'));
    store = new FsModelStore(join(dir, 'store'));
    ({ app } = await createService(trainerService, {
      LOG_LEVEL: 'error',
      MODEL_STORE_DIR: store.root,
      TRAIN_MODEL: 'pop',
      TRAIN_ISOLATION: 'inline',
      AUTH_ADMIN_KEYS: ADMIN,
    }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const t = Date.now() - 3_600_000;
    const events = [];
    for (let u = 0; u < 30; u++) {
      for (let j = 0; j < 4; j++) events.push({ eventId: `e${u}-${j}`, userId: `user-${u}`, type: 'view', itemId: `i${(u + j) % 12}`, ts: t + j * 1_000 });
    }
    const bus = app.get<Bus>(BUS);
    await bus.publish(events.map((e) => ({ topic: TOPICS.EVENTS, key: e.userId, value: JSON.stringify(e) })));
    await bus.subscribe({ groupId: 'test-scorer', topics: [TOPICS.MODELS] }, async (batch) => {
      for (const m of batch.messages) announced.push(JSON.parse(String(m.value)) as ModelPromotedV1);
    });
  });

  after(async () => app?.close());

  const promote = (version: string, body?: unknown, key: string | null = ADMIN) =>
    app.getHttpAdapter().getInstance().inject({
      method: 'POST',
      url: `/v1/models/${version}/promote`,
      headers: key ? { 'x-api-key': key } : {},
      ...(body === undefined ? {} : { payload: body as object }),
    });
  async function announcement(n: number): Promise<ModelPromotedV1> {
    for (let i = 0; i < 200 && announced.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(announced.length, n, 'announcements so far');
    return announced[n - 1]!;
  }
  async function train(): Promise<NonNullable<TrainingRun['result']>> {
    const training = app.get(TrainingService);
    const run = training.start('schedule');
    await training.idle();
    assert.equal(run.status, 'succeeded', run.error);
    return run.result!;
  }

  it('rolls back to an earlier version: pinned, announced like a training run\'s promotion, idempotent; 404 and 400 otherwise', async () => {
    const v1 = await train();
    assert.equal(v1.promoted, true);
    await announcement(1);
    const v2 = await train();
    assert.equal(v2.promoted, false, 'equal is not better');
    const up = await promote(v2.version, { pin: false });
    assert.equal(up.statusCode, 200, up.body);
    assert.deepEqual({ ...(up.json() as object), promotedAt: undefined }, { model: 'pop', version: v2.version, previous: v1.version, alreadyPromoted: false, pinned: false, promotedAt: undefined });
    assert.equal((await announcement(2)).version, v2.version);

    assert.equal((await promote(v1.version, undefined, null)).statusCode, 401, 'admins only');
    const back = await promote(v1.version);
    assert.equal(back.statusCode, 200, back.body);
    assert.equal(back.json().previous, v2.version);
    assert.equal(back.json().pinned, true, 'pinned by default');
    const a = await announcement(3);
    assert.deepEqual([a.model, a.version, a.uri], ['pop', v1.version, store.location('pop', v1.version)]);
    assert.ok(a.promotedAt > announced[1]!.promotedAt, 'newer than the promotion it undoes: every instance takes it');
    assert.equal(await store.current('pop'), v1.version);

    const again = await promote(v1.version);
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().alreadyPromoted, true);
    assert.equal(again.json().previous, v1.version);
    assert.equal((await announcement(4)).version, v1.version, 'announced again: a retry reaches an instance the first announcement missed');

    const listed = (await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/v1/models', headers: { 'x-api-key': ADMIN } })).json().models[0];
    assert.equal(listed.current, v1.version);
    assert.equal(listed.pinned.version, v1.version);

    // the bus fails: 503, the store holds the promotion, and a retry announces it
    const bus = app.get<Bus>(BUS);
    const publish = bus.publish.bind(bus);
    bus.publish = async () => {
      throw new Error('broker down');
    };
    let unannounced;
    try {
      unannounced = await promote(v2.version);
    } finally {
      bus.publish = publish;
    }
    assert.equal(unannounced.statusCode, 503, unannounced.body);
    assert.match(unannounced.json().message, new RegExp(`pop/${v2.version} is promoted in the model store but its announcement failed \\(broker down\\): retry`));
    assert.equal(await store.current('pop'), v2.version);
    const retried = await promote(v2.version);
    assert.equal(retried.json().alreadyPromoted, true);
    assert.equal((await announcement(5)).version, v2.version);
    assert.equal((await promote(v1.version)).statusCode, 200);
    assert.equal((await announcement(6)).version, v1.version);

    const unknown = await promote('20990101T000000Z-beef');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().field, 'version');
    assert.equal((await promote(v2.version, { model: 'sasrec' })).statusCode, 404, 'no such version of that model');
    const bad = await promote('-x');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'version');
    assert.equal((await promote(v2.version, { pin: 'yes' })).json().field, 'pin');
    assert.equal(await store.current('pop'), v1.version, 'refusals changed nothing');
  });

  it('a training run keeps the pinned version even when better; after a user deletion the rollback is refused with 409', async () => {
    const low = '20200101T000000Z-0001';
    await store.publish(
      { model: 'pop', version: low, createdAt: new Date().toISOString(), dataAt: new Date().toISOString(), data: 'fake', metrics: { 'valid.full.NDCG@10': 0.0001 }, backend: 'none' },
      async () => undefined,
    );
    assert.equal((await promote(low)).statusCode, 200);
    const held = await train();
    assert.equal(held.promoted, false);
    assert.match(held.promotion, new RegExp(`${low} is pinned: an operator promoted it`));
    assert.equal(await store.current('pop'), low);

    const before = announced.length;
    // the deletion after every version so far, and a millisecond before the retraining reads its data
    const latest = Math.max(...(await Promise.all((await store.versions('pop')).map(async (v) => Date.parse((await store.manifest('pop', v)).dataAt!)))));
    while (Date.now() <= latest + 1) await new Promise((r) => setTimeout(r, 1));
    const at = Date.now() - 1;
    await app.get<Bus>(BUS).publish([{ topic: TOPICS.USER_DELETIONS, key: 'user-0', value: JSON.stringify({ userId: 'user-0', at, objection: false }) }]);
    const training = app.get(TrainingService);
    for (let i = 0; i < 500 && (await store.latestDeletion()) !== at; i++) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 500 && training.retrainScheduled; i++) await new Promise((r) => setTimeout(r, 10));
    await training.idle();
    const current = (await store.current('pop'))!;
    assert.notEqual(current, low, 'the pinned version was trained before the deletion: the retraining replaced it');
    assert.equal((await announcement(before + 1)).version, current);

    const refused = await promote(held.version);
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().reason, 'trained_before_deletion');
    assert.match(refused.json().message, new RegExp(`pop/${held.version} was trained on data read at .* before the user deletion of ${new Date(at).toISOString()}: retrain instead`));
    assert.equal(refused.json().deletedAt, new Date(at).toISOString());
    assert.equal(await store.current('pop'), current, 'the refused rollback changed nothing');
    const metrics = await scrapeMetrics(app);
    assert.match(metrics, /seqrec_trainer_manual_promotions_total\{model="pop",outcome="trained_before_deletion",service="trainer"\} 1\n/);
    assert.match(metrics, /seqrec_trainer_manual_promotions_total\{model="pop",outcome="already_promoted",service="trainer"\} 2\n/);
  });
});

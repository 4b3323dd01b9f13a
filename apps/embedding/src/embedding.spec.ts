import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { saveArtifact } from '@seqrec/artifacts';
import type { Bus } from '@seqrec/bus';
import { TOPICS, type ModelPromotedV1 } from '@seqrec/contracts';
import { EmbeddingService } from '@seqrec/embedding';
import { decodeUserVector, encodeUserVector } from '@seqrec/window';
import { createEncoder, initBackend } from '@seqrec/model';
import { FsModelStore } from '@seqrec/model-store';
import { BUS, ITEM_DICTIONARY, SEQUENCE_STORE, createService, scrapeMetrics } from '@seqrec/nest-platform';
import { SequenceApplier, type ItemDictionary, type SequenceStore } from '@seqrec/window';
import { embeddingService } from './embedding.service';

const ITEMS = Array.from({ length: 20 }, (_, i) => `i${i}`);

async function artifact(store: FsModelStore, version: string, seed: number) {
  await initBackend();
  const encoder = createEncoder({ kind: 'sasrec', numItems: ITEMS.length, dim: 8, maxLen: 10, blocks: 1, dropout: 0, seed });
  await saveArtifact(store, {
    manifest: { model: 'sasrec', version, createdAt: new Date().toISOString(), data: 'test', metrics: {}, backend: 'test' },
    encoder,
    vocabulary: ['', ...ITEMS],
    popularity: [0, ...ITEMS.map((_, i) => 100 - i)],
  });
  encoder.dispose();
  await store.promote('sasrec', version);
}

describe('user vector codec', () => {
  it('round-trips within int8 quantisation error, with version and lastTs', () => {
    const vector = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    const buf = encodeUserVector({ version: 'v1', lastTs: 1_795_341_605_000, events: 7, vector });
    assert.equal(buf.length, 17 + 2 + 64);
    const back = decodeUserVector(buf);
    assert.equal(back.version, 'v1');
    assert.equal(back.lastTs, 1_795_341_605_000);
    assert.equal(back.events, 7);
    for (let i = 0; i < 64; i++) assert.ok(Math.abs(back.vector[i]! - vector[i]!) <= 3 / 127 / 2 + 1e-6);
  });
});

describe('embedding service (in process, memory bus and state)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embedding-spec-'));
  const store = new FsModelStore(dir);
  let app: NestFastifyApplication;
  let bus: Bus;
  let applier: SequenceApplier;

  const get = (url: string) => app.getHttpAdapter().getInstance().inject({ method: 'GET', url });

  before(async () => {
    await artifact(store, 'v1', 1);
    ({ app } = await createService(embeddingService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    bus = app.get<Bus>(BUS);
    applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), { capacity: 50, sessionGapMs: 30 * 60_000 });
  });

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function vectorOf(userId: string, version: string) {
    for (let i = 0; i < 300; i++) {
      const res = await get(`/v1/users/${userId}/vector`);
      if (res.statusCode === 200 && res.json().model.version === version) return res.json();
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${version} vector for ${userId}`);
  }

  it('encodes window updates into stored user vectors that are current for the live window', async () => {
    const t = Math.floor(Date.now() / 1000) * 1000;
    const r = await applier.apply([
      { partition: 0, offset: 1, event: { eventId: 'a', userId: 'u1', type: 'view', itemId: 'i3', ts: t - 60_000 } },
      { partition: 0, offset: 2, event: { eventId: 'b', userId: 'u1', type: 'purchase', itemId: 'i4', ts: t } },
    ]);
    await bus.publish(r.updates.map((u) => ({ topic: TOPICS.SEQUENCE_UPDATES, key: u.userId, value: u.window })));
    const v = await vectorOf('u1', 'v1');
    assert.equal(v.dim, 8);
    assert.equal(v.lastTs, t);
    assert.equal(v.current, true);
    const exact = app.get(EmbeddingService).model!.encoder.encode([Int32Array.of(4, 5)]);
    const want = Array.from(await exact.data());
    exact.dispose();
    want.forEach((x, i) => assert.ok(Math.abs(x - v.vector[i]) < 0.05, `component ${i}: ${x} vs ${v.vector[i]}`));
  });

  it('serves item vectors, similar items (popularity for an unknown item) and user features', async () => {
    const iv = await get('/v1/items/i3/vector');
    assert.equal(iv.statusCode, 200);
    assert.equal(iv.json().vector.length, 8);
    assert.equal((await get('/v1/items/nope/vector')).statusCode, 404);
    const sim = (await get('/v1/items/i3/similar?k=4')).json();
    assert.equal(sim.items.length, 4);
    assert.ok(!sim.items.some((x: { itemId: string }) => x.itemId === 'i3'));
    const fb = (await get('/v1/items/nope/similar?k=2')).json();
    assert.equal(fb.fallback, 'popularity');
    assert.deepEqual(fb.items.map((x: { itemId: string }) => x.itemId), ['i0', 'i1']);
    assert.equal((await get('/v1/items/i3/similar?k=0')).json().field, 'k');
    const f = (await get('/v1/users/u1/features')).json();
    assert.equal(f.events, 2);
    assert.equal(f.counts.view, 1);
    assert.equal(f.counts.purchase, 1);
    assert.equal(f.sessions, 1);
    assert.equal(f.distinctItems, 2);
    assert.deepEqual(f.itemPopularity, { mean: (97 + 96) / 2, max: 97, unknownItems: 0 });
    assert.ok(f.recencyMs >= 0);
    assert.equal((await get('/v1/users/nobody/features')).json().events, 0);
    assert.equal((await get('/v1/users/nobody/vector')).statusCode, 404);
  });

  it("serves an anonymous session's window features, apart from the user of the same id", async () => {
    await applier.apply([{ partition: 1, offset: 0, event: { eventId: 's-a', sessionId: 'u1', type: 'click', itemId: 'i3', ts: Date.now() - 1_000 } }]);
    const f = (await get('/v1/sessions/u1/features')).json();
    assert.deepEqual([f.sessionId, f.userId, f.events, f.counts.click], ['u1', undefined, 1, 1]);
    assert.equal((await get('/v1/users/u1/features')).json().counts.click, 0);
    assert.equal((await get(`/v1/sessions/${'s'.repeat(129)}/features`)).json().field, 'sessionId');
  });

  it('stores no vector of a deleted user: an update in flight, a deletion during the write, the deletions topic', async () => {
    const svc = app.get(EmbeddingService);
    const windows = app.get<SequenceStore>(SEQUENCE_STORE);
    const t = Date.now() - 10_000;
    const updateOf = async (userId: string, offset: number) => {
      const r = await applier.apply([{ partition: 2, offset, timestamp: t, event: { eventId: `${userId}-${offset}`, userId, type: 'view', itemId: 'i3', ts: t } }]);
      return (await svc.decodeUpdates(r.updates.map((u) => ({ key: Buffer.from(u.userId), value: u.window, timestamp: t })))).updates[0]!;
    };
    // written before the user was deleted, encoded after
    const inFlight = await updateOf('gone', 0);
    await windows.erase({ userId: 'gone', at: Date.now(), objection: false });
    assert.deepEqual(await svc.encodeUpdates([inFlight]), { stored: 0, skipped: 0 });
    assert.equal(await svc.vectors.get('gone'), null);
    // deleted between the markers' read and the vector's write: taken back at once
    const racing = await updateOf('racer', 1);
    const put = svc.vectors.putMany.bind(svc.vectors);
    svc.vectors.putMany = async (entries) => {
      await put(entries);
      await windows.erase({ userId: 'racer', at: Date.now(), objection: false });
    };
    try {
      assert.deepEqual(await svc.encodeUpdates([racing]), { stored: 0, skipped: 0 });
    } finally {
      svc.vectors.putMany = put;
    }
    assert.equal(await svc.vectors.get('racer'), null);
    // a stored vector, then the user's record on the deletions topic
    assert.deepEqual(await svc.encodeUpdates([await updateOf('late', 2)]), { stored: 1, skipped: 0 });
    assert.notEqual(await svc.vectors.get('late'), null);
    await bus.publish([{ topic: TOPICS.USER_DELETIONS, key: 'late', value: JSON.stringify({ userId: 'late', at: Date.now(), objection: false }) }]);
    for (let i = 0; i < 300 && (await svc.vectors.get('late')) !== null; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await svc.vectors.get('late'), null);
    assert.match(await scrapeMetrics(app), /seqrec_embedding_vectors_total\{outcome="deleted",service="embedding"\} 2/);
  });

  it('reloads on a model announcement and re-encodes with it; metrics name the version', async () => {
    await artifact(store, 'v2', 7);
    const a: ModelPromotedV1 = { model: 'sasrec', version: 'v2', uri: store.location('sasrec', 'v2'), metrics: {}, promotedAt: Date.now() };
    await bus.publish([{ topic: TOPICS.MODELS, key: 'sasrec', value: JSON.stringify(a) }]);
    const svc = app.get(EmbeddingService);
    for (let i = 0; i < 500 && svc.model?.version !== 'v2'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(svc.model?.version, 'v2');
    assert.equal((await get('/v1/users/u1/vector')).json().current, false, 'a v1 vector is not current under v2');
    const r = await applier.apply([{ partition: 0, offset: 3, event: { eventId: 'c', userId: 'u1', type: 'view', itemId: 'i5', ts: Date.now() } }]);
    await bus.publish(r.updates.map((u) => ({ topic: TOPICS.SEQUENCE_UPDATES, key: u.userId, value: u.window })));
    assert.equal((await vectorOf('u1', 'v2')).current, true);
    const metrics = await scrapeMetrics(app);
    assert.match(metrics, /seqrec_embedding_model_info\{model="sasrec",version="v2"/);
    assert.match(metrics, /seqrec_embedding_vectors_total\{outcome="stored",service="embedding"\} [2-9]/);
  });
});

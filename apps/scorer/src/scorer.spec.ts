import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Bus } from '@seqrec/bus';
import { TOPICS, type EventType, type ModelPromotedV1 } from '@seqrec/contracts';
import { FsModelStore, TrainedBeforeDeletionError } from '@seqrec/model-store';
import { BUS, ITEM_DICTIONARY, SEQUENCE_STORE, createService, scrapeMetrics } from '@seqrec/nest-platform';
import { ModelLoader, ModelSlot, scorerApi } from '@seqrec/scoring';
import { createTestArtifact, createTestGraphArtifact } from '@seqrec/scoring/testing';
import { SequenceApplier, type ItemDictionary, type SequenceStore } from '@seqrec/window';
import { scorerService } from './scorer.service';

const ITEMS = Array.from({ length: 30 }, (_, i) => `p${i}`);
/** A deterministic chain p0 → p1 → ... → p29 → p0: after pN the model should say pN+1. */
const CHAIN = Array.from({ length: 300 }, (_, u) => Array.from({ length: 12 }, (_, j) => (u + j) % ITEMS.length));

describe('scorer (in process, memory bus and state)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-spec-'));
  const store = new FsModelStore(dir);
  let app: NestFastifyApplication;
  let first: { version: string };
  let applier: SequenceApplier;
  let offset = 0;
  let now = Date.now();

  const inject = (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    app.getHttpAdapter().getInstance().inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function click(userId: string, itemId: string, type: EventType = 'click', ts = now) {
    await applier.apply([{ partition: 0, offset: offset++, event: { eventId: `e${offset}`, userId, type, itemId, ts } }]);
  }

  before(async () => {
    first = await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 8, maxLen: 10, version: 'v0001' });
    ({ app } = await createService(scorerService, {
      LOG_LEVEL: 'error',
      MODEL_STORE_DIR: dir,
      SCORER_MAX_WAIT_MS: '1',
      SCORER_MODEL_POLL_SECONDS: '0',
      SCORER_MAX_K: '25',
    }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), {
      capacity: 50,
      sessionGapMs: 30 * 60_000,
    });
    now = Date.now();
  });

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('recommends the next item of the live window, names the model and how fresh the window is', async () => {
    const t0 = Date.now() - 2_000;
    for (const p of ['p3', 'p4', 'p5']) await click('alice', p, 'view', t0);
    const res = await inject('GET', '/v1/users/alice/recommendations?k=5');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.items.length, 5);
    assert.equal(body.items[0].itemId, 'p6');
    assert.deepEqual(body.model, { name: 'sasrec', version: first.version });
    assert.equal(body.fallback, undefined);
    assert.equal(body.sequence.events, 3);
    assert.equal(body.sequence.lastEventTs, Math.floor(t0 / 1000) * 1000);
    assert.ok(body.sequence.ageMs >= 2_000 && body.sequence.ageMs < 60_000);

    await click('alice', 'p10', 'click', Date.now());
    const next = (await inject('GET', '/v1/users/alice/recommendations?k=5')).json();
    assert.equal(next.items[0].itemId, 'p11', 'the newest click is seen');
  });

  it('leaves out what the user bought, and drops items the model does not know', async () => {
    await click('bob', 'p20', 'view', now - 3_000);
    await click('bob', 'unknown-item', 'view', now - 2_000);
    const before = (await inject('GET', '/v1/users/bob/recommendations?k=3')).json();
    assert.equal(before.items[0].itemId, 'p21');
    assert.equal(before.sequence.unknownItems, 1);
    await click('bob', 'p21', 'purchase', now - 1_000);
    await click('bob', 'p20', 'view', now);
    const after = (await inject('GET', '/v1/users/bob/recommendations?k=25')).json();
    assert.ok(!after.items.some((i: { itemId: string }) => i.itemId === 'p21'), 'purchased item recommended');
  });

  it('falls back to popularity for an unknown user and for a window of unknown items, never 500', async () => {
    const res = (await inject('GET', '/v1/users/nobody/recommendations?k=3')).json();
    assert.deepEqual(res.items.map((i: { itemId: string }) => i.itemId), ['p0', 'p1', 'p2']);
    assert.equal(res.fallback, 'popularity');
    assert.equal(res.fallbackReason, 'unknown_user');
    assert.deepEqual(res.sequence, { events: 0, lastEventTs: null, ageMs: null, unknownItems: 0 });
    await click('carol', 'brand-new', 'view');
    const c = (await inject('GET', '/v1/users/carol/recommendations')).json();
    assert.equal(c.fallbackReason, 'no_known_items');
    assert.equal(c.items.length, 20);
  });

  it('ranks candidates in the caller\'s order or sorted; unknown candidates score null and go last', async () => {
    await click('dave', 'p7');
    const body = { userId: 'dave', items: ['p1', 'nope', 'p8', 'p15'] };
    const res = await inject('POST', '/v1/rank', body);
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json();
    assert.deepEqual(r.items.map((i: { itemId: string }) => i.itemId), body.items);
    assert.equal(r.items[1].score, null);
    assert.equal(r.sorted, false);
    assert.equal(r.scoredFrom, 'live_window');
    const s = (await inject('POST', '/v1/rank', { ...body, sort: true })).json();
    assert.deepEqual(s.items[0].itemId, 'p8');
    assert.equal(s.items[3].itemId, 'nope');
    assert.ok(s.items[0].score >= s.items[1].score && s.items[1].score >= s.items[2].score);
    const anon = (await inject('POST', '/v1/rank', { userId: 'ghost', items: ['p5', 'p1'], sort: true })).json();
    assert.equal(anon.fallback, 'popularity');
    assert.equal(anon.scoredFrom, 'popularity');
    assert.deepEqual(anon.items.map((i: { itemId: string }) => i.itemId), ['p1', 'p5']);
  });

  it('serves similar items, popular ones for an unknown item', async () => {
    const res = (await inject('GET', '/v1/items/p4/similar?k=5')).json();
    assert.equal(res.items.length, 5);
    assert.ok(!res.items.some((i: { itemId: string }) => i.itemId === 'p4'));
    assert.ok(res.items[0].score <= 1.0001 && res.items[0].score >= res.items[4].score);
    const u = (await inject('GET', '/v1/items/zzz/similar?k=2')).json();
    assert.equal(u.fallback, 'popularity');
    assert.equal(u.fallbackReason, 'unknown_item');
  });

  it('answers batch requests per user, in request order', async () => {
    const res = await inject('POST', '/v1/recommendations/batch', { userIds: ['alice', 'nobody', 'dave'], k: 2 });
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json().results;
    assert.deepEqual(r.map((x: { userId: string }) => x.userId), ['alice', 'nobody', 'dave']);
    assert.equal(r[0].items[0].itemId, 'p11');
    assert.equal(r[1].fallback, 'popularity');
    assert.equal(r[2].items[0].itemId, 'p8');
    const rb = await inject('POST', '/v1/rank/batch', { requests: [{ userId: 'alice', items: ['p11', 'p2'] }, { userId: 'dave', items: ['p8'], sort: true }] });
    assert.equal(rb.statusCode, 200, rb.body);
    assert.equal(rb.json().results.length, 2);
  });

  it('answers 400 naming the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['GET', '/v1/users/alice/recommendations?k=0', undefined, 'k'],
      ['GET', '/v1/users/alice/recommendations?k=abc', undefined, 'k'],
      ['GET', '/v1/users/alice/recommendations?k=26', undefined, 'k'],
      ['POST', '/v1/recommendations/batch', { userIds: ['u'.repeat(129)] }, 'userIds/0'],
      ['POST', '/v1/rank', { userId: 'a' }, 'items'],
      ['POST', '/v1/rank', { userId: 5, items: ['x'] }, 'userId'],
      ['POST', '/v1/rank', { userId: 'a', items: ['x', 7] }, 'items/1'],
      ['POST', '/v1/rank', { userId: 'a', items: ['x'], sort: 'yes' }, 'sort'],
      ['POST', '/v1/rank', [1], 'body'],
      ['POST', '/v1/recommendations/batch', { userIds: [] }, 'userIds'],
      ['POST', '/v1/recommendations/batch', { userIds: ['a'], k: -1 }, 'k'],
      ['POST', '/v1/rank/batch', { requests: [{ userId: 'a', items: [] }] }, 'requests/0/items'],
    ];
    for (const [method, url, payload, field] of cases) {
      const res = await inject(method as 'GET' | 'POST', url, payload);
      assert.equal(res.statusCode, 400, `${method} ${url} ${JSON.stringify(payload)}: ${res.body}`);
      assert.equal(res.json().field, field, res.body);
    }
  });

  it('serves the checked-in OpenAPI document, whose every path is a route', async () => {
    const served = (await inject('GET', '/openapi.json')).json();
    const checkedIn = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8'));
    assert.deepEqual(served, checkedIn, 'apps/scorer/openapi.json is stale: regenerate it (see README)');
    const fastify = app.getHttpAdapter().getInstance();
    for (const [path, ops] of Object.entries(served.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) {
        const url = path.replace(/\{(\w+)\}/g, ':$1');
        assert.ok(fastify.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method} ${path} is not a route`);
      }
    }
  });

  it('answers as its OpenAPI schemas say (successes and errors)', async () => {
    const api = scorerApi();
    const conforms = (schema: TSchema | undefined, body: unknown, what: string) => {
      const check = TypeCompiler.Compile(schema!);
      assert.ok(check.Check(body), `${what}: ${JSON.stringify(check.Errors(body).First())}`);
    };
    await click('erin', 'p3');
    const calls: Array<[keyof typeof api, 'GET' | 'POST', string, unknown?]> = [
      ['recommendations', 'GET', '/v1/users/erin/recommendations?k=3'],
      ['recommendations', 'GET', '/v1/users/nobody/recommendations'],
      ['recommendationsBatch', 'POST', '/v1/recommendations/batch', { userIds: ['erin', 'nobody'], k: 2 }],
      ['rank', 'POST', '/v1/rank', { userId: 'erin', items: ['p4', 'nope'], sort: true }],
      ['rankBatch', 'POST', '/v1/rank/batch', { requests: [{ userId: 'erin', items: ['p4'] }] }],
      ['similar', 'GET', '/v1/items/p4/similar?k=2'],
      ['similar', 'GET', '/v1/items/zzz/similar'],
    ];
    for (const [route, method, url, payload] of calls) {
      const res = await inject(method, url, payload);
      assert.equal(res.statusCode, 200, `${method} ${url}: ${res.body}`);
      conforms(api[route].responses['200']!.schema, res.json(), `${method} ${url}`);
    }
    const bad = await inject('POST', '/v1/rank', { userId: 'erin' });
    conforms(api.rank.responses[String(bad.statusCode)]!.schema, bad.json(), 'a 400');
  });

  it('hot-swaps to an announced version with no failed request, then releases the old model', async () => {
    const slot = app.get(ModelSlot);
    const old = slot.model!;
    const second = await createTestArtifact(store, { items: ITEMS, version: 'v0002', seed: 9 });
    const statuses = new Map<number, number>();
    const versions = new Set<string>();
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const res = await inject('GET', '/v1/users/alice/recommendations?k=3');
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 200) versions.add(res.json().model.version);
        // A client on a socket yields between requests; inject() with the in-memory state and the
        // batch-free int8 top-k can answer on microtasks alone, which would starve the swap's I/O.
        await new Promise((r) => setImmediate(r));
      }
    })();
    const announcement: ModelPromotedV1 = { model: 'sasrec', version: second.version, uri: store.location('sasrec', second.version), metrics: {}, promotedAt: Date.now() };
    await app.get<Bus>(BUS).publish([{ topic: TOPICS.MODELS, key: 'sasrec', value: JSON.stringify(announcement) }]);
    const until = Date.now() + 20_000;
    while (slot.model?.version !== second.version && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await load;
    assert.equal(slot.model?.version, second.version);
    assert.deepEqual([...statuses.keys()], [200], JSON.stringify([...statuses]));
    assert.ok(versions.has(first.version) && versions.has(second.version), [...versions].join());
    assert.equal(old.disposed, true, 'the old model was not released');
    const metrics = await scrapeMetrics(app);
    assert.match(metrics, new RegExp(`seqrec_scorer_model_info\\{model="sasrec",version="${second.version}",backend="\\w+"`));
    assert.ok(!metrics.includes(`version="${first.version}"`));
    assert.match(metrics, /seqrec_scorer_model_age_seconds\{service="scorer"\} \d/);
    assert.match(metrics, /seqrec_scorer_requests_total\{route="GET \/v1\/users\/:userId\/recommendations",status="200",service="scorer"\} \d+/);
    // Recommendations from an inline-encoded window take the int8 exact top-k, or under load (auto,
    // the default: this loop of back-to-back requests keeps the event loop busy) a TF batch.
    assert.match(metrics, /seqrec_scorer_exact_topk_seconds_count\{service="scorer"\} [1-9]|seqrec_scorer_batch_size_requests_count\{[^}]*kind="topk-vector"[^}]*\} [1-9]/);
    assert.match(metrics, /seqrec_scorer_queue_depth_requests/);
  });

  it('refuses to load a version trained before the latest user deletion (docs/privacy.md)', async () => {
    const slot = app.get(ModelSlot);
    const served = slot.model!.version;
    const third = await createTestArtifact(store, { items: ITEMS, version: 'v0003', seed: 3 });
    await store.recordDeletion(Date.now());
    await assert.rejects(app.get(ModelLoader).load(third.version), TrainedBeforeDeletionError);
    assert.equal(slot.model?.version, served, 'the refused version is not swapped in');
    assert.match(await scrapeMetrics(app), /seqrec_scorer_model_swaps_total\{outcome="refused"[^}]*\} 1/);
  });
});

describe('scorer edge configurations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-spec-edge-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function start(env: Record<string, string>) {
    const { app } = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, SCORER_MODEL_POLL_SECONDS: '0', ...env });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  }

  it('answers 503 with Retry-After while no model is loaded', async () => {
    const app = await start({});
    try {
      const res = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/v1/users/a/recommendations' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '5');
    } finally {
      await app.close();
    }
  });

  it('requires an API key when keys are configured (x-api-key or bearer), not for health and the document', async () => {
    await createTestArtifact(new FsModelStore(dir), { items: ITEMS.slice(0, 5) });
    const app = await start({ SCORER_API_KEYS: 'k1, k2' });
    const get = (headers: Record<string, string>, url = '/v1/users/a/recommendations?k=2') =>
      app.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers });
    try {
      assert.equal((await get({})).statusCode, 401);
      assert.equal((await get({})).json().field, 'x-api-key');
      assert.equal((await get({ 'x-api-key': 'nope' })).statusCode, 401);
      assert.equal((await get({ 'x-api-key': 'k2' })).statusCode, 200);
      assert.equal((await get({ authorization: 'Bearer k1' })).statusCode, 200);
      assert.equal((await get({}, '/openapi.json')).statusCode, 200);
      assert.equal((await get({}, '/health/live')).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});

describe('scorer serving a graph model (co-occurrence)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-spec-graph-'));
  let app: NestFastifyApplication;
  let applier: SequenceApplier;
  let offset = 0;
  let version: string;
  const inject = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app.getHttpAdapter().getInstance().inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const click = (userId: string, itemId: string, type: EventType = 'click') =>
    applier.apply([{ partition: 0, offset: offset++, event: { eventId: `g${offset}`, userId, type, itemId, ts: Date.now() } }]);

  before(async () => {
    ({ version } = await createTestGraphArtifact(new FsModelStore(dir), { kind: 'cooc', items: ITEMS, train: CHAIN }));
    ({ app } = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, MODEL_NAME: 'cooc', SCORER_MODEL_POLL_SECONDS: '0', SCORER_MAX_K: '25' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), { capacity: 50, sessionGapMs: 30 * 60_000 });
  });

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('recommends from the live window through the item graph, sees the newest click and leaves out purchases', async () => {
    for (const p of ['p3', 'p4', 'p5']) await click('gina', p);
    const body = (await inject('GET', '/v1/users/gina/recommendations?k=5')).json();
    assert.deepEqual(body.model, { name: 'cooc', version });
    assert.equal(body.scoredFrom, 'live_window');
    assert.equal(body.items.length, 5);
    const ids = body.items.map((i: { itemId: string }) => i.itemId);
    assert.equal(ids[0], 'p6', 'the next item of the chain');
    assert.ok(ids.indexOf('p7') > 0 && (ids.indexOf('p8') < 0 || ids.indexOf('p8') > ids.indexOf('p7')), `followers nearest first: ${ids}`);
    for (let q = 1; q < body.items.length; q++) assert.ok(body.items[q - 1].score >= body.items[q].score, 'best first');
    await click('gina', 'p12', 'purchase');
    const next = (await inject('GET', '/v1/users/gina/recommendations?k=5')).json();
    assert.equal(next.items[0].itemId, 'p13', 'the newest click is seen');
    assert.ok(!next.items.some((i: { itemId: string }) => i.itemId === 'p12'), 'the purchase is left out');
  });

  it('ranks candidates, serves similar items from the graph and falls back to popularity for an unknown user', async () => {
    for (const p of ['p20', 'p21']) await click('hal', p);
    const ranked = (await inject('POST', '/v1/rank', { userId: 'hal', items: ['p2', 'p22', 'nope', 'p23'], sort: true })).json();
    assert.deepEqual(ranked.items.map((i: { itemId: string }) => i.itemId), ['p22', 'p23', 'p2', 'nope']);
    assert.equal(ranked.items[3].score, null);
    assert.ok(ranked.items[0].score > ranked.items[2].score);
    const similar = (await inject('GET', '/v1/items/p10/similar?k=3')).json();
    assert.deepEqual(similar.items.map((i: { itemId: string }) => i.itemId), ['p11', 'p12', 'p13'], 'co-occurrence: the items that follow p10');
    const unknown = (await inject('GET', '/v1/users/nobody/recommendations?k=3')).json();
    assert.equal(unknown.fallback, 'popularity');
    assert.equal(unknown.fallbackReason, 'unknown_user');
  });
});

describe('scorer with the approximate top-k index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-ivf-spec-'));
  const store = new FsModelStore(dir);
  let app: NestFastifyApplication;

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the exact top-k when every list is probed, and exports the recall it measured at load', async () => {
    await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 8, maxLen: 10, version: 'v0001' });
    ({ app } = await createService(scorerService, {
      LOG_LEVEL: 'error',
      MODEL_STORE_DIR: dir,
      SCORER_MODEL_POLL_SECONDS: '0',
      SCORER_INDEX_LISTS: '6',
      SCORER_INDEX_PROBES: '6',
    }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const inject = (url: string) => app.getHttpAdapter().getInstance().inject({ method: 'GET', url });
    const applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), {
      capacity: 50,
      sessionGapMs: 30 * 60_000,
    });
    let offset = 0;
    for (const p of ['p3', 'p4', 'p5']) {
      await applier.apply([{ partition: 0, offset: offset++, event: { eventId: `x${offset}`, userId: 'carol', type: 'view', itemId: p, ts: Date.now() } }]);
    }
    const model = app.get(ModelSlot).model!;
    assert.ok(model.index, 'the index is built at load');
    assert.equal(model.index.lists, 6);
    const body = (await inject('/v1/users/carol/recommendations?k=10')).json();
    assert.equal(body.items[0].itemId, 'p6');
    const ids = Int32Array.from(['p3', 'p4', 'p5'], (id) => model.indexOf(id));
    const [exact] = await model.encoder.topK([ids], 10);
    assert.deepEqual(
      body.items.map((i: { itemId: string }) => i.itemId),
      Array.from(exact!.items, (ix) => model.artifact.vocabulary[ix]),
      'probing all lists gives the exact top-k',
    );
    const metrics = await scrapeMetrics(app);
    assert.match(metrics, /seqrec_scorer_index_recall_at_20_ratio\{model="sasrec",version="v0001"[^}]*\} 1\b/);
    assert.match(metrics, /seqrec_scorer_index_in_use\{model="sasrec",version="v0001"[^}]*\} 1\b/);

    // A hot swap builds the new version's index beside live requests: none fails.
    const second = await createTestArtifact(store, { items: ITEMS, version: 'v0002', seed: 9 });
    const statuses = new Map<number, number>();
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const res = await inject('/v1/users/carol/recommendations?k=3');
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        // With the inline encoder and the index a request here never leaves the microtask queue
        // (in-memory state, injected request): a real client's I/O lets the loop turn between
        // requests, so this one does too, or the swap it is testing could never run.
        await new Promise((r) => setImmediate(r));
      }
    })();
    const announcement: ModelPromotedV1 = { model: 'sasrec', version: second.version, uri: store.location('sasrec', second.version), metrics: {}, promotedAt: Date.now() };
    await app.get<Bus>(BUS).publish([{ topic: TOPICS.MODELS, key: 'sasrec', value: JSON.stringify(announcement) }]);
    const slot = app.get(ModelSlot);
    const until = Date.now() + 20_000;
    while (slot.model?.version !== second.version && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await load;
    assert.equal(slot.model?.version, second.version);
    assert.ok(slot.model?.index, 'the new version has its index');
    assert.deepEqual([...statuses.keys()], [200], JSON.stringify([...statuses]));
    const after = await scrapeMetrics(app);
    assert.match(after, /seqrec_scorer_index_recall_at_20_ratio\{model="sasrec",version="v0002"/);
    assert.ok(!after.includes('index_recall_at_20_ratio{model="sasrec",version="v0001"'), 'the old version\'s recall is gone');
  });
});

describe('scorer with an index below SCORER_INDEX_MIN_RECALL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-index-floor-spec-'));
  const store = new FsModelStore(dir);
  let app: NestFastifyApplication;

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves exact top-k when the recall measured at load is below the floor, and says so in its metrics', async () => {
    await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 8, maxLen: 10, version: 'v0001' });
    // one list of six probed: recall@20 over 30 items cannot reach the default floor (0.98)
    ({ app } = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, SCORER_MODEL_POLL_SECONDS: '0', SCORER_INDEX_LISTS: '6', SCORER_INDEX_PROBES: '1' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), { capacity: 50, sessionGapMs: 30 * 60_000 });
    let offset = 0;
    for (const p of ['p3', 'p4', 'p5']) {
      await applier.apply([{ partition: 0, offset: offset++, event: { eventId: `x${offset}`, userId: 'carol', type: 'view', itemId: p, ts: Date.now() } }]);
    }
    const model = app.get(ModelSlot).model!;
    assert.equal(model.index, null, 'the index is not used');
    const metrics = await scrapeMetrics(app);
    const recall = Number(/seqrec_scorer_index_recall_at_20_ratio\{model="sasrec",version="v0001"[^}]*\} ([\d.e-]+)/.exec(metrics)?.[1]);
    assert.ok(recall < 0.98, `measured recall ${recall}`);
    assert.match(metrics, /seqrec_scorer_index_in_use\{model="sasrec",version="v0001"[^}]*\} 0\b/);
    const body = (await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/v1/users/carol/recommendations?k=10' })).json();
    const [exact] = await model.encoder.topK([Int32Array.from(['p3', 'p4', 'p5'], (id) => model.indexOf(id))], 10);
    assert.deepEqual(
      body.items.map((i: { itemId: string }) => i.itemId),
      Array.from(exact!.items, (ix) => model.artifact.vocabulary[ix]),
      'the answer is exact top-k',
    );
  });
});

describe('scorer under overload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-overload-spec-'));
  const store = new FsModelStore(dir);
  let app: NestFastifyApplication;

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 + Retry-After while the event loop lags past SCORER_MAX_EVENT_LOOP_DELAY_MS, then serves again', async () => {
    await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 1, maxLen: 10, version: 'v0001' });
    ({ app } = await createService(scorerService, {
      LOG_LEVEL: 'error',
      MODEL_STORE_DIR: dir,
      SCORER_MODEL_POLL_SECONDS: '0',
      SCORER_MAX_EVENT_LOOP_DELAY_MS: '100',
    }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const get = (url: string) => app.getHttpAdapter().getInstance().inject({ method: 'GET', url });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    assert.equal((await get('/v1/items/p3/similar?k=2')).statusCode, 200);
    // Saturate the process: the loop cannot run anything for 300 ms.
    const end = performance.now() + 300;
    while (performance.now() < end);
    let shed: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 30 && !shed; i++) {
      const res = await get('/v1/items/p3/similar?k=2');
      if (res.statusCode === 503) shed = res;
      else await sleep(10);
    }
    assert.ok(shed, 'a request is shed while the lag is over the limit');
    assert.equal(shed.headers['retry-after'], '1');
    assert.match(shed.json().message, /event-loop lag \d+ ms is above SCORER_MAX_EVENT_LOOP_DELAY_MS \(100\)/);
    assert.equal((await get('/health/live')).statusCode, 200, 'health and metrics are never shed');
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      await sleep(20);
      ok = (await get('/v1/items/p3/similar?k=2')).statusCode === 200;
    }
    assert.ok(ok, 'serves again once the lag is gone');
    assert.match(await scrapeMetrics(app), /seqrec_scorer_shed_requests_total\{reason="event_loop"[^}]*\} [1-9]/);
  });
});

describe('scorer exact top-k: int8 scan or matMul, both agree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-encode-spec-'));
  const store = new FsModelStore(dir);
  const apps: NestFastifyApplication[] = [];

  after(async () => {
    for (const a of apps) await a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same recommendations and rank scores every way, each counted where it ran', async () => {
    await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 4, maxLen: 10, version: 'v0001' });
    const answers: Array<{ recs: { scoredFrom: string; items: Array<{ itemId: string; score: number }> }; rank: { items: Array<{ itemId: string; score: number }> }; metrics: string }> = [];
    const modes = [
      { SCORER_EXACT_TOPK: 'int8' },
      { SCORER_EXACT_TOPK: 'matmul' },
    ];
    for (const mode of modes) {
      const { app } = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, SCORER_MODEL_POLL_SECONDS: '0', ...mode });
      apps.push(app);
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
      const applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), { capacity: 50, sessionGapMs: 30 * 60_000 });
      const t = Date.now();
      let offset = 0;
      for (const p of ['p7', 'p8', 'p9', 'p10']) {
        await applier.apply([{ partition: 0, offset: offset++, event: { eventId: `e${offset}`, userId: 'dora', type: 'view', itemId: p, ts: t + offset } }]);
      }
      const fastify = app.getHttpAdapter().getInstance();
      const recs = (await fastify.inject({ method: 'GET', url: '/v1/users/dora/recommendations?k=8' })).json();
      const rank = (await fastify.inject({ method: 'POST', url: '/v1/rank', payload: { userId: 'dora', items: ['p11', 'p3', 'p20', 'p12'] } })).json();
      answers.push({ recs, rank, metrics: await scrapeMetrics(app) });
    }
    const [int8, matmul] = answers as [(typeof answers)[0], (typeof answers)[0]];
    assert.equal(int8.recs.items[0]!.itemId, 'p11', 'the chain continues');
    for (const other of [matmul]) {
      assert.equal(other.recs.scoredFrom, 'live_window');
      assert.deepEqual(int8.recs.items.map((i) => i.itemId), other.recs.items.map((i) => i.itemId));
      int8.recs.items.forEach((it, j) => assert.ok(Math.abs(it.score - other.recs.items[j]!.score) < 1e-4, `${it.itemId}: ${it.score} vs ${other.recs.items[j]!.score}`));
      int8.rank.items.forEach((it, j) => assert.ok(Math.abs(it.score - other.rank.items[j]!.score) < 1e-4, `rank ${it.itemId}: ${it.score} vs ${other.rank.items[j]!.score}`));
    }
    // Inline + int8: the encode and the exact top-k are timed, nothing is batched.
    assert.match(int8.metrics, /seqrec_scorer_inline_encode_seconds_count\{service="scorer"\} 2\b/);
    assert.match(int8.metrics, /seqrec_scorer_exact_topk_seconds_count\{service="scorer"\} 1\b/);
    assert.match(int8.metrics, /seqrec_scorer_exact_topk_rescored_items_count\{service="scorer"\} 1\b/);
    assert.doesNotMatch(int8.metrics, /seqrec_scorer_batch_size_requests_count\{[^}]*kind="topk-vector"/);
    // Inline + matMul: the top-k is a vector batch.
    assert.match(matmul.metrics, /seqrec_scorer_exact_topk_seconds_count\{service="scorer"\} 0\b/);
    assert.match(matmul.metrics, /seqrec_scorer_batch_size_requests_count\{[^}]*kind="topk-vector"[^}]*\} 1\b/);
  });
});

for (const kind of ['item2vec', 'nextitnet'] as const) describe(`scorer live windows without an inline encoder (${kind}): micro-batched TF passes`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-batched-spec-'));
  const store = new FsModelStore(dir);
  let app: NestFastifyApplication | undefined;

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores the window in a topk and a rank batch, as the model itself ranks', async () => {
    await createTestArtifact(store, { model: kind, items: ITEMS, maxLen: 10, version: 'v0001', config: { kind } });
    ({ app } = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, MODEL_NAME: kind, SCORER_MODEL_POLL_SECONDS: '0' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), { capacity: 50, sessionGapMs: 30 * 60_000 });
    const t = Date.now();
    for (const [i, p] of ['p4', 'p5', 'p6'].entries()) {
      await applier.apply([{ partition: 0, offset: i, event: { eventId: `b${i}`, userId: 'finn', type: 'view', itemId: p, ts: t + i } }]);
    }
    const fastify = app.getHttpAdapter().getInstance();
    const recs = (await fastify.inject({ method: 'GET', url: '/v1/users/finn/recommendations?k=5' })).json();
    assert.equal(recs.scoredFrom, 'live_window');
    assert.equal(recs.items.length, 5);
    const rank = (await fastify.inject({ method: 'POST', url: '/v1/rank', payload: { userId: 'finn', items: recs.items.map((i: { itemId: string }) => i.itemId) } })).json();
    recs.items.forEach((it: { itemId: string; score: number }, j: number) => {
      if (j > 0) assert.ok(it.score <= recs.items[j - 1].score, 'best first');
      assert.ok(Math.abs(it.score - rank.items[j].score) < 1e-4, `${it.itemId}: top-k ${it.score} vs rank ${rank.items[j].score}`);
    });
    const metrics = await scrapeMetrics(app);
    assert.match(metrics, /seqrec_scorer_inline_encode_seconds_count\{service="scorer"\} 0\b/);
    assert.match(metrics, /seqrec_scorer_batch_size_requests_count\{[^}]*kind="topk"[^}]*\} 1\b/);
    assert.match(metrics, /seqrec_scorer_batch_size_requests_count\{[^}]*kind="rank"[^}]*\} 1\b/);
  });
});

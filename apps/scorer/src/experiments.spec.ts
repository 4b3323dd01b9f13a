import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Bus } from '@seqrec/bus';
import { TOPICS, type EventV1, type ModelPromotedV1 } from '@seqrec/contracts';
import { HOLDOUT, assignVariant } from '@seqrec/experiments';
import { FsModelStore } from '@seqrec/model-store';
import { BUS, ITEM_DICTIONARY, SEQUENCE_STORE, createService, scrapeMetrics } from '@seqrec/nest-platform';
import { ExperimentsService, ScoringService } from '@seqrec/scoring';
import { createTestArtifact, createTestGraphArtifact } from '@seqrec/scoring/testing';
import { SequenceApplier, type ItemDictionary, type SequenceStore } from '@seqrec/window';
import { scorerService } from './scorer.service';

const ITEMS = Array.from({ length: 30 }, (_, i) => `p${i}`);
const CHAIN = Array.from({ length: 300 }, (_, u) => Array.from({ length: 12 }, (_, j) => (u + j) % ITEMS.length));

/** Experiments in process (memory bus and store): routing by variant, impressions, the feedback join, the report, shadow. */
describe('scorer experiments (in process, memory bus and state)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-exp-spec-'));
  const store = new FsModelStore(dir);
  let app: NestFastifyApplication;
  let bus: Bus;
  let applier: SequenceApplier;
  let offset = 0;

  const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    app.getHttpAdapter().getInstance().inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const metric = async (name: string, labels: string) => {
    const line = (await scrapeMetrics(app)).split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((kv) => l.includes(kv)));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const until = async (f: () => Promise<boolean>, what: string) => {
    const t0 = Date.now();
    while (!(await f())) {
      if (Date.now() - t0 > 10_000) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  before(async () => {
    await createTestArtifact(store, { items: ITEMS, train: CHAIN, epochs: 4, maxLen: 10, version: 'v0001' });
    await createTestGraphArtifact(store, { model: 'cooc', items: ITEMS, train: CHAIN, version: 'v0002', promote: false });
    ({ app } = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, SCORER_MODEL_POLL_SECONDS: '0', SCORER_EXPERIMENT_POLL_MS: '0', SCORER_MAX_EVENT_LOOP_DELAY_MS: '0' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    bus = app.get<Bus>(BUS);
    applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), { capacity: 50, sessionGapMs: 30 * 60_000 });
    for (let u = 0; u < 120; u++) {
      for (const p of [u % 30, (u + 1) % 30]) {
        await applier.apply([{ partition: 0, offset: offset++, event: { eventId: `w${offset}`, userId: `u${u}`, type: 'view', itemId: `p${p}`, ts: Date.now() } }]);
      }
    }
  });

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a bad experiment with 400 naming the field, an unknown model with 404, and answers without a variant meanwhile', async () => {
    const bad = await inject('PUT', '/v1/experiments/ab', { variants: [{ name: 'a', share: -1 }], holdout: 2, extra: true });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.ok(bad.json().problems.length >= 3, bad.body);
    assert.equal((await inject('PUT', '/v1/experiments/ab', [1, 2])).statusCode, 400);
    assert.equal((await inject('PUT', '/v1/experiments/ab', { id: 'other', variants: [{ name: 'a', share: 1 }] })).statusCode, 400);
    const unknown = await inject('PUT', '/v1/experiments/ab', { variants: [{ name: 'a', share: 1 }, { name: 'b', share: 1, model: { name: 'sasrec', version: 'v9' } }] });
    assert.equal(unknown.statusCode, 404, unknown.body);
    assert.equal(unknown.json().field, 'variants/1.model');
    assert.equal((await inject('GET', '/v1/experiments/nope/report')).statusCode, 404);
    // hostile bodies: deeply nested, huge, not JSON, prototype keys, a bad id in the path: 4xx, never 5xx
    const deep = '['.repeat(5_000) + ']'.repeat(5_000);
    const raw = (payload: string, type = 'application/json') =>
      app.getHttpAdapter().getInstance().inject({ method: 'PUT', url: '/v1/experiments/ab', headers: { 'content-type': type }, payload });
    for (const [what, res] of [
      ['deeply nested', await raw(`{"variants":${deep}}`)],
      ['huge', await raw(JSON.stringify({ variants: [{ name: 'a', share: 1, model: { name: 'x'.repeat(400_000) } }] }))],
      ['not JSON', await raw('{"variants":')],
      ['text', await raw('variants', 'text/plain')],
      ['prototype keys', await raw('{"__proto__":{"holdout":0.5},"variants":[{"name":"a","share":1,"constructor":1}]}')],
    ] as const) {
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${what}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    assert.equal((await inject('PUT', '/v1/experiments/bad%20id', { variants: [{ name: 'a', share: 1 }] })).statusCode, 400);
    assert.equal((await inject('GET', '/v1/experiments')).json().active, null, 'nothing was started by any of them');
    const plain = (await inject('GET', '/v1/users/u1/recommendations?k=5')).json();
    assert.equal(plain.experiment, undefined);
    assert.match(plain.requestId, /^[0-9a-f-]{36}$/);
  });

  it('routes each user to the model of their sticky variant, stamps every answer and joins clicks to impressions', async () => {
    const config = {
      variants: [
        { name: 'control', share: 1 },
        { name: 'graph', share: 1, model: { name: 'cooc', version: 'v0002' } },
      ],
      holdout: 0.2,
      k: 5,
    };
    const started = await inject('PUT', '/v1/experiments/ab', config);
    assert.equal(started.statusCode, 200, started.body);
    assert.equal(started.json().inForce, true);

    const seen = new Map<string, number>();
    const ids = new Set<string>();
    const answers: Array<{ user: string; requestId: string; variant: string; items: string[] }> = [];
    for (let u = 0; u < 120; u++) {
      const res = await inject('GET', `/v1/users/u${u}/recommendations?k=5`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      const expected = assignVariant({ id: 'ab', ...config }, `u${u}`);
      assert.deepEqual(body.experiment, { id: 'ab', variant: expected });
      assert.equal(body.model.version, expected === 'graph' ? 'v0002' : 'v0001', `u${u} in ${expected}`);
      seen.set(expected, (seen.get(expected) ?? 0) + 1);
      ids.add(body.requestId);
      answers.push({ user: `u${u}`, requestId: body.requestId, variant: expected, items: body.items.map((i: { itemId: string }) => i.itemId) });
    }
    assert.equal(ids.size, 120, 'one request id per answer');
    for (const v of ['control', 'graph', HOLDOUT]) assert.ok((seen.get(v) ?? 0) >= 10, `${v}: ${seen.get(v)}`);
    const again = (await inject('GET', '/v1/users/u7/recommendations?k=5')).json();
    assert.equal(again.experiment.variant, answers[7]!.variant, 'sticky');
    const batch = (await inject('POST', '/v1/recommendations/batch', { userIds: ['u1', 'u2', 'u3'], k: 3 })).json();
    batch.results.forEach((r: { experiment: { variant: string }; model: { version: string } }, i: number) => {
      assert.equal(r.experiment.variant, answers[i + 1]!.variant);
      assert.equal(r.model.version, answers[i + 1]!.variant === 'graph' ? 'v0002' : 'v0001');
    });
    const rank = (await inject('POST', '/v1/rank', { userId: 'u4', items: ['p1', 'p2'] })).json();
    assert.equal(rank.experiment.variant, answers[4]!.variant);

    // every answer's impression reaches the join (impressions topic → experiment store)
    const total = 120 + 1 + 3 + 1;
    await until(async () => {
      const c = (await inject('GET', '/v1/experiments/ab/report')).json().counts;
      return Object.values(c as Record<string, { impressions: number }>).reduce((s, x) => s + x.impressions, 0) === total;
    }, `${total} impressions counted`);

    // clicks: by request id on the first item of every graph answer; one by user and item; one duplicate; one not shown
    const graph = answers.filter((a) => a.variant === 'graph');
    const events: EventV1[] = graph.map((a, i) => ({ eventId: `c${i}`, userId: a.user, type: 'click', itemId: a.items[0]!, ts: Date.now(), context: { requestId: a.requestId } }));
    const ctl = answers.filter((a) => a.variant === 'control')[0]!;
    events.push({ eventId: 'c-user-item', userId: ctl.user, type: 'click', itemId: ctl.items[1]!, ts: Date.now() });
    events.push({ ...events[0]! });
    events.push({ eventId: 'c-not-shown', userId: ctl.user, type: 'click', itemId: 'p-unknown', ts: Date.now() });
    events.push({ eventId: 'buy', userId: graph[0]!.user, type: 'purchase', itemId: graph[0]!.items[0]!, ts: Date.now(), context: { requestId: graph[0]!.requestId, revenue: 25 } });
    await bus.publish(events.map((e) => ({ topic: TOPICS.EVENTS, key: e.userId!, value: JSON.stringify(e) })));
    await until(async () => (await metric('seqrec_experiment_feedback_total', 'experiment="ab",outcome="duplicate"')) === 1, 'the duplicate seen');
    const report = (await inject('GET', '/v1/experiments/ab/report')).json();
    assert.equal(report.counts.graph.clicks, graph.length);
    assert.equal(report.counts.graph.clickedImpressions, graph.length);
    assert.equal(report.counts.graph.clickPositionSum, graph.length, 'each at position 1');
    assert.equal(report.counts.graph.convertedImpressions, 1);
    assert.equal(report.counts.graph.revenue, 25);
    assert.equal(report.counts.control.clicks, 1);
    assert.equal(report.counts.control.clickPositionSum, 2);
    assert.equal(report.report.control, 'control');
    assert.match(report.report.method, /mSPRT/);
    const graphCtr = report.report.variants.find((v: { name: string }) => v.name === 'graph').ctr.mean;
    assert.ok(Math.abs(graphCtr - graph.length / report.counts.graph.impressions) < 1e-12);
    assert.equal(await metric('seqrec_experiment_clicks_total', 'variant="graph"'), graph.length);
    assert.equal(await metric('seqrec_experiment_feedback_total', 'outcome="unattributed"'), 1);
    assert.equal(await metric('seqrec_experiment_feedback_total', 'outcome="subject_item"'), 1);
    assert.equal(await metric('seqrec_experiment_revenue_total', 'variant="graph"'), 25);
  });

  it('scores sampled requests with the shadow model off the request path, and serves none of its answers', async () => {
    const res = await inject('PUT', '/v1/experiments/shadowed', { variants: [{ name: 'control', share: 1 }], shadow: { model: { name: 'cooc', version: 'v0002' }, sample: 1 } });
    assert.equal(res.statusCode, 200, res.body);
    const list = (await inject('GET', '/v1/experiments')).json();
    assert.equal(list.active.config.id, 'shadowed');
    assert.deepEqual(
      list.experiments.map((r: { config: { id: string }; stoppedAt?: number }) => [r.config.id, r.stoppedAt !== undefined]),
      [
        ['shadowed', false],
        ['ab', true],
      ],
    );
    for (let u = 0; u < 20; u++) {
      const body = (await inject('GET', `/v1/users/u${u}/recommendations?k=5`)).json();
      assert.equal(body.model.version, 'v0001', 'the shadow is never served');
      await new Promise((r) => setImmediate(r));
    }
    await inject('POST', '/v1/rank', { userId: 'u3', items: ['p1', 'p2', 'p3'], sort: true });
    // the shadow takes the impressions from the join (impressions topic), never the request path
    await until(async () => (await metric('seqrec_shadow_requests_total', 'route="recommendations",outcome="scored"')) === 20, 'shadow scorings');
    await until(async () => (await metric('seqrec_shadow_requests_total', 'route="rank",outcome="scored"')) === 1, 'the rank answer scored by the shadow');
    assert.equal(await metric('seqrec_shadow_overlap_ratio_count', 'route="recommendations"'), 20);
    assert.equal(await metric('seqrec_shadow_requests_total', 'outcome="failed"'), 0);
  });

  it("scores the shadow from the window as it was when the answer was served, not as it is when the impression is read", async () => {
    const scoring = app.get(ScoringService);
    const slot = app.get(ExperimentsService).shadowFor({ experiment: 'shadowed', requestId: 'r' });
    assert.ok(slot, 'sample 1: every request');
    try {
      const t0 = Date.now() - 60_000;
      // u500 viewed p3 and, 30 s later, p17; u501 only viewed p3
      await applier.apply([{ partition: 0, offset: offset++, event: { eventId: 'asof-1', userId: 'u500', type: 'view', itemId: 'p3', ts: t0 } }]);
      await applier.apply([{ partition: 0, offset: offset++, event: { eventId: 'asof-2', userId: 'u501', type: 'view', itemId: 'p3', ts: t0 } }]);
      await applier.apply([{ partition: 0, offset: offset++, event: { eventId: 'asof-3', userId: 'u500', type: 'view', itemId: 'p17', ts: t0 + 30_000 } }]);
      const imp = (userId: string, ts: number) => ({ requestId: 'r', experiment: 'shadowed', variant: 'control', userId, route: 'recommendations' as const, items: ['p0', 'p1', 'p2', 'p5', 'p6'], model: { name: 'sasrec', version: 'v0001' }, ts });
      const before = await scoring.shadowAnswer(slot, imp('u500', t0 + 10_000));
      const onlyP3 = await scoring.shadowAnswer(slot, imp('u501', t0 + 10_000));
      const now = await scoring.shadowAnswer(slot, imp('u500', Date.now()));
      assert.equal(before.length, 5);
      assert.deepEqual(before, onlyP3, 'the later view left out');
      assert.notDeepEqual(now, before, 'the later view counts for an answer served after it');
    } finally {
      slot.release();
    }
  });

  it('stops: answers carry no variant again, the report stays', async () => {
    assert.equal((await inject('DELETE', '/v1/experiments/ab')).statusCode, 404, 'not the active one');
    assert.equal((await inject('DELETE', '/v1/experiments/shadowed')).statusCode, 200);
    const body = (await inject('GET', '/v1/users/u1/recommendations?k=5')).json();
    assert.equal(body.experiment, undefined);
    assert.equal((await inject('GET', '/v1/experiments/ab/report')).statusCode, 200);
  });

  it("moves a variant that follows a model by name to its newly promoted version on the models topic's announcement", async () => {
    await store.promote('cooc', 'v0002');
    const started = await inject('PUT', '/v1/experiments/follow', { variants: [{ name: 'graph', share: 1, model: { name: 'cooc' } }] });
    assert.equal(started.statusCode, 200, started.body);
    assert.equal((await inject('GET', '/v1/users/u1/recommendations?k=3')).json().model.version, 'v0002');
    const next = await createTestGraphArtifact(store, { model: 'cooc', items: ITEMS, train: CHAIN, version: 'v0003' });
    // neither poll runs here (SCORER_EXPERIMENT_POLL_MS and SCORER_MODEL_POLL_SECONDS are 0): only the announcement moves it
    const announcement: ModelPromotedV1 = { model: 'cooc', version: next.version, uri: store.location('cooc', next.version), metrics: {}, promotedAt: Date.now() };
    await bus.publish([{ topic: TOPICS.MODELS, key: 'cooc', value: JSON.stringify(announcement) }]);
    await until(async () => (await inject('GET', '/v1/users/u1/recommendations?k=3')).json().model.version === 'v0003', 'the variant on v0003');
    const body = (await inject('GET', '/v1/users/u2/recommendations?k=3')).json();
    assert.deepEqual([body.model.name, body.model.version, body.experiment.variant], ['cooc', 'v0003', 'graph']);
    assert.equal((await inject('DELETE', '/v1/experiments/follow')).statusCode, 200);
  });
});

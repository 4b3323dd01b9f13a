import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FsModelStore } from '@seqrec/model-store';
import { ITEM_DICTIONARY, SEQUENCE_STORE, createService } from '@seqrec/nest-platform';
import { blendScores } from '@seqrec/scoring';
import { createTestArtifact } from '@seqrec/scoring/testing';
import { SequenceApplier, type ItemDictionary, type SequenceStore } from '@seqrec/window';
import { scorerService } from './scorer.service';

const ITEMS = Array.from({ length: 30 }, (_, i) => `p${i}`);
/** A deterministic chain p0 → p1 → ... → p29 → p0: after pN the model should say pN+1. */
const CHAIN = Array.from({ length: 300 }, (_, u) => Array.from({ length: 12 }, (_, j) => (u + j) % ITEMS.length));

describe('scorer: search re-ranking and explanations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-search-'));
  let app: NestFastifyApplication;
  const rank = (payload: object) => app.getHttpAdapter().getInstance().inject({ method: 'POST', url: '/v1/rank', payload });
  const ids = (body: { items: Array<{ itemId: string }> }) => body.items.map((i) => i.itemId);

  before(async () => {
    await createTestArtifact(new FsModelStore(dir), { items: ITEMS, train: CHAIN, epochs: 8, maxLen: 10, version: 'v0001' });
    ({ app } = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, SCORER_MODEL_POLL_SECONDS: '0', SCORER_SEARCH_BLEND_WEIGHT: '0.5' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), { capacity: 50, sessionGapMs: 30 * 60_000 });
    await applier.apply(['p3', 'p4'].map((itemId, i) => ({ partition: 0, offset: i, event: { eventId: `s${i}`, userId: 'sam', type: 'view' as const, itemId, ts: Date.now() - 1_000 + i } })));
  });

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("blends by the deployment's weight or the request's, and keeps an unknown candidate at its engine position", async () => {
    // the engine's order: p9, p5, new-item, p20; the model (after p3, p4) wants p5
    const items = ['p9', 'p5', 'new-item', 'p20'];
    const res = await rank({ userId: 'sam', items, query: 'mugs', enginePositions: [1, 2, 3, 4] });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    const personal = body.items.map((i: { score: number | null }) => i.score);
    assert.equal(personal[2], null, 'the model does not know new-item');
    const expected = blendScores(personal, [1, 1 / Math.log2(3), 0.5, 1 / Math.log2(5)], 0.5);
    body.items.forEach((it: { blended: number }, q: number) => assert.ok(Math.abs(it.blended - expected[q]!) < 1e-9, `${items[q]}: ${it.blended} vs ${expected[q]}`));

    const sorted = (await rank({ userId: 'sam', items, enginePositions: [1, 2, 3, 4], sort: true })).json();
    assert.equal(ids(sorted)[0], 'p5', 'the personal favourite rises');
    assert.ok(ids(sorted).indexOf('new-item') < ids(sorted).indexOf('p20'), 'an unknown item keeps its place before a worse engine result, not last');

    const engineOnly = (await rank({ userId: 'sam', items, engineScores: [4, 3, 2, 1], blendWeight: 0, sort: true })).json();
    assert.deepEqual(ids(engineOnly), items, 'weight 0: the engine order');
    const personalOnly = (await rank({ userId: 'sam', items, engineScores: [4, 3, 2, 1], blendWeight: 1, sort: true })).json();
    assert.equal(ids(personalOnly)[0], 'p5');
    // without engine input nothing changes: no blended field, unknown items last when sorted
    const plain = (await rank({ userId: 'sam', items, sort: true })).json();
    assert.equal(plain.items[0].blended, undefined);
    assert.equal(ids(plain)[3], 'new-item');
  });

  it('explains recommendations and re-ranks by the events that drove them (occlusion with the served model)', async () => {
    const get = (url: string) => app.getHttpAdapter().getInstance().inject({ method: 'GET', url });
    const plain = (await get('/v1/users/sam/recommendations?k=3')).json();
    assert.equal(plain.items[0].explanation, undefined, 'no explanation unless asked for');
    const res = await get('/v1/users/sam/recommendations?k=3&explain=true');
    assert.equal(res.statusCode, 200, res.body);
    const top = res.json().items[0];
    assert.equal(top.itemId, 'p5', 'after p3, p4 the chain says p5');
    assert.equal(top.explanation.events[0].itemId, 'p4', JSON.stringify(top.explanation));
    assert.equal(top.explanation.events[0].type, 'view');
    assert.ok(top.explanation.events[0].weight > 0);
    assert.match(top.explanation.reason, /^viewed p4/);
    const ranked = (await rank({ userId: 'sam', items: ['p5', 'new-item'], explain: true })).json();
    assert.equal(ranked.items[0].explanation.events[0].itemId, 'p4');
    assert.equal(ranked.items[1].explanation, undefined, 'an item the model does not know has no explanation');
    assert.equal((await get('/v1/users/sam/recommendations?explain=yes')).statusCode, 400);
  });

  it('refuses engine input that does not fit the candidates with a 400 naming the field', async () => {
    for (const [payload, field] of [
      [{ userId: 'sam', items: ['p1', 'p2'], engineScores: [1] }, 'engineScores'],
      [{ userId: 'sam', items: ['p1', 'p2'], enginePositions: [1, 2, 3] }, 'enginePositions'],
      [{ userId: 'sam', items: ['p1'], engineScores: [1], enginePositions: [1] }, 'enginePositions'],
      [{ userId: 'sam', items: ['p1'], enginePositions: [0] }, 'enginePositions/0'],
      [{ userId: 'sam', items: ['p1'], engineScores: [1], blendWeight: 2 }, 'blendWeight'],
    ] as const) {
      const res = await rank(payload);
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
      assert.equal(res.json().field, field, res.body);
    }
  });
});

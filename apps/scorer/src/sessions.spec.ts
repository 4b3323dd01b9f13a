import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EventV1 } from '@seqrec/contracts';
import { FsModelStore } from '@seqrec/model-store';
import { ITEM_DICTIONARY, SEQUENCE_STORE, TRENDING_STORE, createService } from '@seqrec/nest-platform';
import { createTestArtifact } from '@seqrec/scoring/testing';
import { SequenceApplier, type ItemDictionary, type SequenceStore, type TrendingStore } from '@seqrec/window';
import { scorerService } from './scorer.service';

const ITEMS = Array.from({ length: 30 }, (_, i) => `p${i}`);
/** A deterministic chain p0 → p1 → ... → p29 → p0: after pN the model should say pN+1. */
const CHAIN = Array.from({ length: 300 }, (_, u) => Array.from({ length: 12 }, (_, j) => (u + j) % ITEMS.length));

describe('scorer: anonymous sessions and the live trending fallback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-sessions-'));
  let app: NestFastifyApplication;
  let applier: SequenceApplier;
  let trending: TrendingStore;
  let offset = 0;

  const inject = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app.getHttpAdapter().getInstance().inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const ids = (body: { items: Array<{ itemId: string }> }) => body.items.map((i) => i.itemId);
  const apply = (events: Array<Omit<EventV1, 'eventId' | 'ts' | 'type'>>) =>
    applier.apply(events.map((e) => ({ partition: 0, offset: offset++, event: { eventId: `e${offset}`, type: 'view' as const, ts: Date.now() - 1_000, ...e } })));

  before(async () => {
    await createTestArtifact(new FsModelStore(dir), { items: ITEMS, train: CHAIN, epochs: 8, maxLen: 10, version: 'v0001' });
    ({ app } = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, SCORER_MODEL_POLL_SECONDS: '0', SCORER_TRENDING_CACHE_MS: '0' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), { capacity: 50, sessionGapMs: 30 * 60_000 });
    trending = app.get<TrendingStore>(TRENDING_STORE);
  });

  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("recommends from an anonymous session's window, and after its login from the user's", async () => {
    await apply([{ sessionId: 's1', itemId: 'p3' }, { sessionId: 's1', itemId: 'p4' }]);
    const res = await inject('GET', '/v1/sessions/s1/recommendations?k=3');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.sessionId, 's1');
    assert.equal(body.userId, undefined);
    assert.equal(body.scoredFrom, 'live_window');
    assert.equal(ids(body)[0], 'p5');
    assert.equal(body.sequence.events, 2);
    // the user "s1" is somebody else
    assert.equal((await inject('GET', '/v1/users/s1/recommendations?k=3')).json().fallbackReason, 'unknown_user');

    await apply([{ userId: 'ann', sessionId: 's1', itemId: 'p5' }]);
    const user = (await inject('GET', '/v1/users/ann/recommendations?k=3')).json();
    assert.equal(user.sequence.events, 3, 'the session merged into the user');
    assert.equal(ids(user)[0], 'p6');
    const session = (await inject('GET', '/v1/sessions/s1/recommendations?k=3')).json();
    assert.deepEqual([session.sessionId, session.sequence.events, ids(session)[0]], ['s1', 3, 'p6']);
  });

  it('re-ranks for a session, and wants exactly one of userId and sessionId', async () => {
    await apply([{ sessionId: 's2', itemId: 'p7' }]);
    const res = await inject('POST', '/v1/rank', { sessionId: 's2', items: ['p1', 'p8'], sort: true });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([res.json().sessionId, ids(res.json())], ['s2', ['p8', 'p1']]);
    for (const [payload, field] of [
      [{ items: ['p1'] }, 'userId'],
      [{ userId: 'a', sessionId: 's2', items: ['p1'] }, 'userId'],
      [{ requests: [{ userId: 'a', items: ['p1'] }, { items: ['p1'] }] }, 'requests/1/userId'],
    ] as const) {
      const bad = await inject('POST', 'requests' in payload ? '/v1/rank/batch' : '/v1/rank', payload);
      assert.equal(bad.statusCode, 400, bad.body);
      assert.equal(bad.json().field, field);
    }
  });

  it('answers unknown users and empty sessions with the live trending items, training popularity while none', async () => {
    const before = (await inject('GET', '/v1/sessions/nobody/recommendations?k=3')).json();
    assert.deepEqual([before.fallback, before.fallbackReason, before.popularity], ['popularity', 'unknown_session', 'training']);
    assert.deepEqual(ids(before), ['p0', 'p1', 'p2']);

    const now = Date.now();
    await trending.record(0, [
      { offset: 1, ts: now, itemId: 'p20' },
      { offset: 2, ts: now, itemId: 'p20' },
      { offset: 3, ts: now, itemId: 'brand-new' },
      { offset: 4, ts: now, itemId: 'p20' },
      { offset: 5, ts: now, itemId: 'brand-new' },
      { offset: 6, ts: now, itemId: 'p9' },
    ]);
    // without rules an item the model does not know can trend
    const open = (await inject('GET', '/v1/users/nobody/recommendations?k=3&available=false&excludeInteracted=none')).json();
    assert.deepEqual([open.fallbackReason, open.popularity], ['unknown_user', 'trending']);
    assert.deepEqual(ids(open), ['p20', 'brand-new', 'p9'], 'an item the model does not know can trend');
    assert.ok(Math.abs(open.items[0].score - 3) < 0.01, JSON.stringify(open.items[0]));
    const session = (await inject('GET', '/v1/sessions/nobody/recommendations?k=2&available=false&excludeInteracted=none')).json();
    assert.deepEqual(ids(session), ['p20', 'brand-new']);
    // with the deployment's rules (only available items) it cannot be judged, so it is left out; still k items
    const user = (await inject('GET', '/v1/users/nobody/recommendations?k=3')).json();
    assert.deepEqual([user.fallbackReason, user.popularity], ['unknown_user', 'trending']);
    assert.deepEqual(ids(user), ['p20', 'p9', 'p0'], 'the trending items the rules can judge, then training popularity');

    const rank = (await inject('POST', '/v1/rank', { userId: 'ghost', items: ['p9', 'brand-new', 'p1'], sort: true })).json();
    assert.deepEqual([rank.popularity, ids(rank)], ['trending', ['brand-new', 'p9', 'p1']]);
    assert.equal(rank.items[2].score, 0, 'a candidate that is not trending scores 0, not null');
  });
});

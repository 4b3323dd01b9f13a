import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createService } from '@seqrec/nest-platform';
import { SMALL_EMBEDDED_ENV } from '@seqrec/testing';
import { embeddedService } from './service';

interface Recommendations {
  items: Array<{ itemId: string; score: number | null }>;
  model: { name: string; version: string };
  scoredFrom: string;
  sequence: { events: number; lastEventTs: number | null };
}

/**
 * The whole platform in one process, as `npm start` runs it: generated events → ingester →
 * sequence-builder → trainer (a child process) → embedding → scorer, on the in-memory bus and state.
 */
describe('embedded mode: the whole platform', () => {
  let app: NestFastifyApplication;
  let store: string;

  before(async () => {
    store = await mkdtemp(join(tmpdir(), 'embedded-models-'));
    ({ app } = await createService(embeddedService, {
      LOG_LEVEL: 'error',
      MODEL_STORE_DIR: store,
      ...SMALL_EMBEDDED_ENV,
    }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  after(async () => {
    await app.close();
    await rm(store, { recursive: true, force: true });
  });

  const inject = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app.getHttpAdapter().getInstance().inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 45_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== null) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const recommend = async (userId: string): Promise<Recommendations | null> => {
    const res = await inject('GET', `/v1/users/${userId}/recommendations?k=5`);
    return res.statusCode === 200 ? (res.json() as Recommendations) : null;
  };

  it('trains on the live events, promotes the model and serves it; a click changes the next answer', async () => {
    const promoted = await until('a promoted model', async () => {
      const { models } = (await inject('GET', '/v1/models')).json() as { models: Array<{ model: string; current: string | null }> };
      return models.find((m) => m.model === 'sasrec')?.current ?? null;
    });

    // A shopper of our own, on items of the generated catalogue the model learned.
    const t = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const history = ['i00001', 'i00002', 'i00003'].map((itemId, i) => ({ eventId: `carol-${i}`, userId: 'carol', type: 'view', itemId, ts: t + i * 1000 }));
    assert.equal((await inject('POST', '/v1/events', history)).json().accepted, 3);
    const before = await until('a trained answer for carol', async () => {
      const r = await recommend('carol');
      return r && r.model.version === promoted && r.sequence.events === 3 ? r : null;
    });
    assert.equal(before.model.name, 'sasrec');
    assert.notEqual(before.scoredFrom, 'popularity');
    assert.equal(before.items.length, 5);
    assert.ok(before.items.every((i) => typeof i.score === 'number'), 'scored by the model');
    assert.equal(before.sequence.lastEventTs, t + 2_000);

    // a click on an item the model knows (one it just recommended): an item it has not seen is
    // skipped by the encoder and would leave the answer as it was
    const clicked = before.items[0]!.itemId;
    const clickTs = t + 30_000;
    const click = { eventId: 'carol-click', userId: 'carol', type: 'click', itemId: clicked, ts: clickTs };
    assert.equal((await inject('POST', '/v1/events', [click])).json().accepted, 1);
    const window = await until('the click in carol\'s window', async () => {
      const res = await inject('GET', '/v1/users/carol/sequence');
      const body = res.json() as { events: Array<{ type: string; itemId: string | null }> };
      return body.events.length === 4 ? body : null;
    });
    assert.deepEqual(window.events.at(-1), { ...window.events.at(-1), type: 'click', itemId: clicked });
    const next = await until('an answer from the new window', async () => {
      const r = await recommend('carol');
      return r && r.sequence.events === 4 ? r : null;
    });
    assert.equal(next.sequence.lastEventTs, clickTs);
    assert.equal(next.model.version, promoted);
    assert.notDeepEqual(next.items, before.items, 'the click changed the answer');
  });

  it('a catalogue change posted to /v1/items is honoured by the next recommendations (the freshness budget), k results kept', async () => {
    const inject2 = (method: 'POST' | 'DELETE', url: string, payload?: unknown) =>
      app.getHttpAdapter().getInstance().inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
    const first = await until('a model answer for carol', async () => {
      const r = await recommend('carol');
      return r && r.scoredFrom !== 'popularity' ? r : null;
    });
    const top = first.items[0]!.itemId;
    // bad input: a clear 400 naming the field
    const bad = await inject2('POST', '/v1/items', { itemId: top, price: -3 });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual([bad.json().reason, bad.json().field], ['invalid_field', '/0/price']);

    const t0 = performance.now();
    const posted = await inject2('POST', '/v1/items', [{ itemId: top, title: 'sold out', category: 'Demo/Top', price: 10, available: false }]);
    assert.equal(posted.statusCode, 200);
    assert.equal(posted.json().accepted, 1);
    const without = await until('the unavailable item left out', async () => {
      const r = await recommend('carol');
      return r && !r.items.some((i) => i.itemId === top) ? r : null;
    }, 10_000);
    const visibleMs = performance.now() - t0;
    console.log(`catalogue change visible to the scorer after ${visibleMs.toFixed(0)} ms (in-memory bus)`);
    assert.equal(without.items.length, 5, 'still k items: the next best that pass');
    assert.deepEqual(without.items.slice(0, 4).map((i) => i.itemId), first.items.slice(1, 5).map((i) => i.itemId), 'the rest moves up in order');
    // per request: unavailable items may be asked for; a category filter keeps only the tagged item
    const anyway = (await inject('GET', '/v1/users/carol/recommendations?k=5&available=false')).json() as Recommendations;
    assert.equal(anyway.items[0]!.itemId, top);
    const only = (await inject('GET', '/v1/users/carol/recommendations?k=5&available=false&category=Demo')).json() as Recommendations;
    assert.deepEqual(only.items.map((i) => i.itemId), [top]);
    // deleted: not in the catalogue, so no longer unavailable
    assert.equal((await inject2('DELETE', `/v1/items/${top}`)).statusCode, 200);
    await until('the deleted item back', async () => {
      const r = await recommend('carol');
      return r && r.items[0]!.itemId === top ? r : null;
    }, 10_000);
  });
});

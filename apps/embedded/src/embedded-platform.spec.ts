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
});

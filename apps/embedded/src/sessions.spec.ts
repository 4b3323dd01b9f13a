import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createService } from '@seqrec/nest-platform';
import { embeddedService } from './service';

/** Anonymous sessions in embedded mode: HTTP in, the in-memory bus and state, the login merge. */
describe('embedded mode: anonymous sessions', () => {
  let app: NestFastifyApplication;
  const now = Date.now();

  before(async () => {
    ({ app } = await createService(embeddedService, { LOG_LEVEL: 'error', DEMO_EVENTS_PER_SEC: '0' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  after(async () => app.close());

  const inject = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    app.getHttpAdapter().getInstance().inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });

  /** The window answer of `url` once it holds `length` events. */
  async function windowOf(url: string, length: number): Promise<{ sessionId?: string; events: Array<{ itemId: string; type: string }> }> {
    for (let i = 0; i < 300; i++) {
      const r = await inject('GET', url);
      if (r.statusCode === 200 && r.json().events.length === length) return r.json();
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error(`${url} never held ${length} events`);
  }

  it('keeps an anonymous window, merges it at login, and rejects an event with neither id', async () => {
    const res = await inject('POST', '/v1/events', [
      { eventId: 's1', sessionId: 'tab-1', type: 'view', itemId: 'shoe', ts: now - 9_000 },
      { eventId: 's2', sessionId: 'tab-1', type: 'click', itemId: 'shoe', ts: now - 8_000 },
      { eventId: 's3', type: 'view', itemId: 'hat', ts: now },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().results[2], {
      index: 2,
      eventId: 's3',
      status: 'rejected',
      reason: 'missing_subject',
      field: '/userId',
      detail: '/userId: required, or a sessionId for an anonymous shopper (the event must belong to a user or a session)',
    });
    const session = await windowOf('/v1/sessions/tab-1/sequence', 2);
    assert.deepEqual([session.sessionId, session.events.map((e) => e.itemId)], ['tab-1', ['shoe', 'shoe']]);
    assert.equal((await inject('GET', '/v1/users/tab-1/sequence')).statusCode, 404);

    await inject('POST', '/v1/events', [{ eventId: 's4', userId: 'carla', sessionId: 'tab-1', type: 'add_to_cart', itemId: 'shoe', ts: now - 1_000 }]);
    const user = await windowOf('/v1/users/carla/sequence', 3);
    assert.deepEqual(user.events.map((e) => e.type), ['view', 'click', 'add_to_cart']);
    const gone = await inject('GET', '/v1/sessions/tab-1/sequence');
    assert.equal(gone.statusCode, 404);
    assert.match(gone.json().message, /logged in: its events are in user "carla"/);
  });
});

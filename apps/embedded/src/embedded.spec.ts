import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CredentialStore, HttpAuthGuard, createService, scrapeMetrics } from '@seqrec/nest-platform';
import { embeddedService } from './service';

/** Embedded mode in-process: HTTP in, the whole pipeline on the in-memory bus and state. */
describe('embedded mode', () => {
  let app: NestFastifyApplication;
  const now = Date.now();

  before(async () => {
    ({ app } = await createService(embeddedService, { LOG_LEVEL: 'error', DEMO_EVENTS_PER_SEC: '0' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  after(async () => app.close());

  const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    app.getHttpAdapter().getInstance().inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function sequenceOf(userId: string, length: number, of: 'users' | 'sessions' = 'users') {
    for (let i = 0; i < 200; i++) {
      const res = await inject('GET', `/v1/${of}/${userId}/sequence`);
      if (res.statusCode === 200 && res.json().events.length === length) return res.json();
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${userId} never reached ${length} events`);
  }

  it('accepts a batch, says per event what happened, and builds the window in time order', async () => {
    const res = await inject('POST', '/v1/events', [
      { eventId: 'a1', userId: 'alice', type: 'view', itemId: 'shoe', ts: now - 5_000 },
      { eventId: 'a2', userId: 'alice', type: 'add_to_cart', itemId: 'shoe', ts: new Date(now - 1_000).toISOString() },
      { eventId: 'a3', userId: 'alice', type: 'search', query: 'socks', ts: now - 3_000, device: 'ios' },
      { eventId: 'a4', userId: 'alice', type: 'teleport', itemId: 'x', ts: now },
    ]);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual([body.accepted, body.duplicates, body.rejected], [3, 0, 1]);
    assert.deepEqual(body.results[3], {
      index: 3,
      eventId: 'a4',
      status: 'rejected',
      reason: 'invalid_field',
      field: '/type',
      detail: '/type: expected one of "view", "click", "search", "add_to_cart", "purchase"',
    });
    const seq = await sequenceOf('alice', 3);
    assert.deepEqual(
      seq.events.map((e: { type: string; itemId: string | null }) => [e.type, e.itemId]),
      [['view', 'shoe'], ['search', null], ['add_to_cart', 'shoe']],
    );
  });

  it('drops a producer retry as a duplicate', async () => {
    const event = { eventId: 'b1', userId: 'bob', type: 'click', itemId: 'hat', ts: now };
    assert.equal((await inject('POST', '/v1/events', [event])).json().accepted, 1);
    const retry = (await inject('POST', '/v1/events', [event])).json();
    assert.deepEqual([retry.accepted, retry.duplicates], [0, 1]);
    assert.equal((await sequenceOf('bob', 1)).events.length, 1);
  });

  it('answers 400 naming the field for a body that is not an array, 413 for a body over the limit', async () => {
    const bad = await inject('POST', '/v1/events', { eventId: 'x' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'body');
    const empty = await inject('POST', '/v1/events', []);
    assert.equal(empty.statusCode, 400);
    const huge = await inject('POST', '/v1/events', [{ blob: 'x'.repeat(1_100_000) }]);
    assert.equal(huge.statusCode, 413);
  });

  it('is live and ready, and exports its metrics', async () => {
    assert.equal((await inject('GET', '/health/live')).statusCode, 200);
    const ready = await inject('GET', '/health/ready');
    assert.equal(ready.statusCode, 200, ready.body);
    const metrics = await scrapeMetrics(app);
    assert.match(metrics, /seqrec_ingester_events_total\{source="http",outcome="accepted",service="embedded"\} \d+/);
    assert.match(metrics, /seqrec_sequence_builder_events_total\{outcome="applied",service="embedded"\} \d+/);
    assert.match(metrics, /process_cpu_seconds_total/);
  });

  it('answers 404 for a user with no sequence', async () => {
    assert.equal((await inject('GET', '/v1/users/nobody/sequence')).statusCode, 404);
  });

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
    const session = await sequenceOf('tab-1', 2, 'sessions');
    assert.deepEqual([session.sessionId, session.events.map((e: { itemId: string }) => e.itemId)], ['tab-1', ['shoe', 'shoe']]);
    assert.equal((await inject('GET', '/v1/users/tab-1/sequence')).statusCode, 404);

    await inject('POST', '/v1/events', [{ eventId: 's4', userId: 'carla', sessionId: 'tab-1', type: 'add_to_cart', itemId: 'shoe', ts: now - 1_000 }]);
    const user = await sequenceOf('carla', 3);
    assert.deepEqual(user.events.map((e: { type: string }) => e.type), ['view', 'click', 'add_to_cart']);
    const gone = await inject('GET', '/v1/sessions/tab-1/sequence');
    assert.equal(gone.statusCode, 404);
    assert.match(gone.json().message, /logged in: its events are in user "carla"/);
  });

  it('forgets a user with DELETE /v1/users/{id} in one process: window, vector, session link; 400 for a bad id', async () => {
    // carla's window and her session's link (the test above)
    await sequenceOf('carla', 3);
    const res = await inject('DELETE', '/v1/users/carla');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([res.json().status, res.json().erased.sessions], ['deleted', 1]);
    assert.equal((await inject('GET', '/v1/users/carla/sequence')).statusCode, 404);
    assert.equal((await inject('GET', '/v1/sessions/tab-1/sequence')).statusCode, 404);
    // an event stamped before the deletion, arriving after it, brings nothing back; a later one starts afresh
    await inject('POST', '/v1/events', [{ eventId: 'c-late', userId: 'carla', type: 'view', itemId: 'hat', ts: now - 500 }]);
    await inject('POST', '/v1/events', [{ eventId: 'c-new', userId: 'carla', type: 'view', itemId: 'sock', ts: Date.now() + 1_000 }]);
    assert.deepEqual((await sequenceOf('carla', 1)).events.map((e: { itemId: string }) => e.itemId), ['sock']);
    const bad = await inject('DELETE', `/v1/users/${'u'.repeat(129)}`);
    assert.equal(bad.statusCode, 400);
    assert.deepEqual([bad.json().field, bad.json().message], ['userId', 'userId: a user id has 1 to 128 characters, got 129']);
  });
});

describe('embedded mode: route roles', () => {
  it('keeps training, model listings and promotion (rollback) for admins, although the scorer\'s rules make /v1/* client', () => {
    const unlimited = { ratePerSec: 0, burst: 0 };
    const sut = new HttpAuthGuard({
      required: false,
      credentials: new CredentialStore({ producer: [], client: [], admin: [] }),
      limits: { producer: unlimited, client: unlimited, admin: unlimited },
      routes: embeddedService.auth!.routes!,
    });
    assert.equal(sut.access('POST', '/v1/models/:version/promote'), 'admin');
    assert.equal(sut.access('GET', '/v1/models'), 'admin');
    assert.equal(sut.access('POST', '/v1/train'), 'admin');
    assert.equal(sut.access('GET', '/v1/train/runs/:id'), 'admin');
    assert.equal(sut.access('GET', '/v1/users/:userId/recommendations'), 'client');
  });
});

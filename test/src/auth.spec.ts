/**
 * Authentication against the running services (each its own process, real Kafka and Redis), as
 * production runs them (AUTH_REQUIRED=true): producers, scorer clients and operators each have
 * their own keys (x-api-key or Authorization: Bearer), health stays open, /metrics is served on
 * METRICS_PORT only, a producer over its rate gets 429 + Retry-After and none of its refused events
 * reaches a window, and a service without the credentials it needs does not start.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisKeys, TOPICS } from '@seqrec/contracts';
import { createTopicsAndWait } from '@seqrec/kafka';
import { brokersFromEnv, deleteNamespaceTopics, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { FsModelStore } from '@seqrec/model-store';
import { createRedis } from '@seqrec/redis';
import { deleteNamespace, redisUrlFromEnv } from '@seqrec/redis/testing';
import { createTestArtifact } from '@seqrec/scoring/testing';
import { startService, type RunningService } from '@seqrec/testing';

const ROOT = join(__dirname, '..', '..');
const KEYS = {
  producer: 'producer-key-0123456789abcdef',
  /** a second producer, the one that floods */
  flooder: 'producer-key-flood-0123456789',
  client: 'client-key-0123456789abcdef',
  legacyClient: 'scorer-legacy-key-0123456789',
  admin: 'admin-key-0123456789abcdef',
};
const ITEMS = Array.from({ length: 10 }, (_, i) => `p${i}`);

describe('auth: credentials per role on every service, rate limits per credential, fail closed', () => {
  const ns = uniqueName('auth');
  const keys = new RedisKeys(ns);
  const brokers = brokersFromEnv();
  const dir = mkdtempSync(join(tmpdir(), 'auth-e2e-'));
  const env = {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_NAMESPACE: ns,
    REDIS_URL: redisUrlFromEnv(),
    REDIS_PREFIX: ns,
    MODEL_STORE_DIR: join(dir, 'models'),
    LOG_LEVEL: 'warn',
    INGEST_EXACTLY_ONCE: 'false',
    SCORER_MODEL_POLL_SECONDS: '0',
    AUTH_REQUIRED: 'true',
  };
  const running: RunningService[] = [];
  const svc: Record<string, RunningService> = {};
  let seq = 0;

  const call = (s: RunningService, path: string, init: { method?: string; key?: string; bearer?: string; body?: unknown } = {}) =>
    fetch(`${s.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.key ? { 'x-api-key': init.key } : {}),
        ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const events = (userId: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ eventId: `${ns}-e${seq++}`, userId, type: 'view', itemId: ITEMS[i % ITEMS.length], ts: Date.now() - 1_000 }));

  before(async () => {
    await createTestArtifact(new FsModelStore(env.MODEL_STORE_DIR), { items: ITEMS });
    writeFileSync(join(dir, 'train.txt'), Array.from({ length: 40 }, (_, u) => `${u + 1} ${(u % 10) + 1}\n${u + 1} ${((u + 3) % 10) + 1}`).join('\n') + '\n');
    await createTopicsAndWait(brokers, Object.values(TOPICS).map((t) => ({ topic: `${ns}.${t}`, numPartitions: 2, replicationFactor: 1 })));
    const start = async (app: string, extra: Record<string, string>) => {
      const s = await startService(app, { ...env, ...extra }, 90_000);
      running.push(s);
      svc[app] = s;
    };
    await start('ingester', { AUTH_PRODUCER_KEYS: `${KEYS.producer},${KEYS.flooder}`, AUTH_PRODUCER_RATE: '1', AUTH_PRODUCER_BURST: '3', AUTH_ADMIN_KEYS: KEYS.admin });
    await start('sequence-builder', { AUTH_ADMIN_KEYS: KEYS.admin });
    // the admin key also given as its SHA-256 digest: the secret store may hold digests only
    await start('embedding', { AUTH_CLIENT_KEYS: KEYS.client, AUTH_ADMIN_KEYS: `sha256:${createHash('sha256').update(KEYS.admin).digest('hex')}` });
    await start('scorer', { AUTH_CLIENT_KEYS: KEYS.client, SCORER_API_KEYS: KEYS.legacyClient, AUTH_ADMIN_KEYS: KEYS.admin });
    await start('trainer', { AUTH_ADMIN_KEYS: KEYS.admin, TRAIN_MODEL: 'pop', TRAIN_DATA_PATH: join(dir, 'train.txt'), TRAIN_DATA_FORMAT: 'sasrec' });
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await deleteNamespaceTopics(brokers, ns);
    const redis = createRedis({ url: redisUrlFromEnv(), connectionName: 'seqrec-e2e' });
    await redis.connect();
    await deleteNamespace(redis, keys);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  it('health stays open; /metrics is on METRICS_PORT only, without credentials', async () => {
    for (const s of running) {
      assert.equal((await call(s, '/health/live')).status, 200, `${s.name} live`);
      assert.equal((await call(s, '/health/ready')).status, 200, `${s.name} ready`);
      assert.equal((await call(s, '/metrics')).status, 404, `${s.name}: no /metrics on the API port`);
      const m = await fetch(s.metricsUrl);
      assert.equal(m.status, 200, `${s.name} metrics`);
      assert.match(await m.text(), /process_cpu_seconds_total/);
      assert.equal((await fetch(s.metricsUrl.replace(/\/metrics$/, '/v1/events'), { method: 'POST' })).status, 404, `${s.name}: the metrics port serves nothing else`);
    }
  });

  it('ingester: POST /v1/events needs a producer key (401 without or with another key), x-api-key or bearer', async () => {
    const ingester = svc['ingester']!;
    const none = await call(ingester, '/v1/events', { method: 'POST', body: events('u-none', 1) });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="seqrec"');
    assert.deepEqual(await none.json(), { statusCode: 401, error: 'Unauthorized', field: 'x-api-key', message: 'an API key is required (x-api-key or Authorization: Bearer)' });
    for (const key of ['wrong', KEYS.client, `${KEYS.producer}x`, KEYS.producer.slice(0, -1)]) {
      const r = await call(ingester, '/v1/events', { method: 'POST', key, body: events('u-wrong', 1) });
      assert.equal(r.status, 401, key);
      assert.equal(((await r.json()) as { field: string }).field, 'credentials');
    }
    assert.equal((await call(ingester, '/v1/events', { method: 'POST', key: KEYS.admin, body: events('u-wrong', 1) })).status, 403, 'admin keys are not producer keys');
    assert.equal((await call(ingester, '/v1/events', { method: 'POST', key: KEYS.producer, body: events('u-ok', 2) })).status, 200);
    assert.equal((await call(ingester, '/v1/events', { method: 'POST', bearer: KEYS.producer, body: events('u-ok', 1) })).status, 200);
    // a malformed body from an unauthenticated caller is refused before it is read
    const raw = await fetch(`${ingester.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"not json' });
    assert.equal(raw.status, 401);
  });

  it('ingester: deleting a user, or recording an objection, needs an admin key', async () => {
    const ingester = svc['ingester']!;
    for (const [method, path] of [
      ['DELETE', '/v1/users/u-forget'],
      ['PUT', '/v1/users/u-forget/objection'],
      ['DELETE', '/v1/users/u-forget/objection'],
    ] as const) {
      assert.equal((await call(ingester, path, { method })).status, 401, `${method} ${path} without a key`);
      assert.equal((await call(ingester, path, { method, key: KEYS.producer })).status, 403, `${method} ${path} with a producer key`);
      assert.equal((await call(ingester, path, { method, key: KEYS.admin })).status, 200, `${method} ${path} with the admin key`);
    }
  });

  it('a producer over its rate gets 429 + Retry-After, others are unaffected, and its refused events reach no window', async () => {
    const ingester = svc['ingester']!;
    const builder = svc['sequence-builder']!;
    const statuses: number[] = [];
    let retryAfter = '';
    let accepted = 0;
    for (let i = 0; i < 8; i++) {
      const r = await call(ingester, '/v1/events', { method: 'POST', key: KEYS.flooder, body: events('u-flood', 5) });
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after') ?? '';
        assert.match(((await r.json()) as { message: string }).message, /rate limit of this API key exceeded: 1 requests\/s, bursts of 3/);
      } else {
        assert.equal(r.status, 200, await r.text());
        accepted += 5;
      }
    }
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200], 'the burst passes');
    assert.ok(statuses.filter((s) => s === 429).length >= 4, statuses.join());
    assert.ok(Number(retryAfter) >= 1, `Retry-After: ${retryAfter}`);
    assert.equal((await call(ingester, '/v1/events', { method: 'POST', key: KEYS.producer, body: events('u-other', 1) })).status, 200, 'the other producer still gets through');
    await new Promise((r) => setTimeout(r, Number(retryAfter) * 1_000));
    assert.equal((await call(ingester, '/v1/events', { method: 'POST', key: KEYS.flooder, body: events('u-flood', 5) })).status, 200, 'after Retry-After');
    accepted += 5;
    const windowOf = async () => {
      const r = await call(builder, '/v1/users/u-flood/sequence', { key: KEYS.admin });
      return r.status === 200 ? ((await r.json()) as { events: unknown[] }).events.length : 0;
    };
    await waitFor('the accepted events in the window', async () => (await windowOf()) === accepted, 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(await windowOf(), accepted, 'refused requests wrote nothing');
    const metrics = await (await fetch(ingester.metricsUrl)).text();
    const flooder = createHash('sha256').update(KEYS.flooder).digest('hex').slice(0, 8);
    assert.match(metrics, new RegExp(`seqrec_platform_auth_denied_requests_total\\{role="producer",reason="rate_limited",credential="${flooder}"[^}]*\\} [4-9]`));
  });

  it('sequence-builder: a user\'s window is for admin keys only', async () => {
    const builder = svc['sequence-builder']!;
    assert.equal((await call(builder, '/v1/users/u-ok/sequence')).status, 401);
    assert.equal((await call(builder, '/v1/users/u-ok/sequence', { key: KEYS.producer })).status, 401);
    assert.equal((await call(builder, '/v1/users/u-ok/sequence', { key: KEYS.client })).status, 401);
    await waitFor('u-ok window', async () => (await call(builder, '/v1/users/u-ok/sequence', { key: KEYS.admin })).status === 200, 30_000);
    assert.equal((await call(builder, '/v1/users/u-ok/sequence', { bearer: KEYS.admin })).status, 200);
  });

  it('embedding: item reads for client keys, user vectors and features for admin keys (403 for the other role)', async () => {
    const embedding = svc['embedding']!;
    const not401or403 = (s: number) => s !== 401 && s !== 403;
    assert.equal((await call(embedding, '/v1/items/p1/vector')).status, 401);
    assert.ok(not401or403((await call(embedding, '/v1/items/p1/vector', { key: KEYS.client })).status));
    assert.ok(not401or403((await call(embedding, '/v1/items/p1/similar?k=3', { key: KEYS.client })).status));
    assert.equal((await call(embedding, '/v1/items/p1/vector', { key: KEYS.admin })).status, 403, 'admin keys are not client keys');
    assert.equal((await call(embedding, '/v1/users/u-ok/vector', { key: KEYS.client })).status, 403);
    assert.equal((await call(embedding, '/v1/users/u-ok/features', { key: KEYS.client })).status, 403);
    assert.ok(not401or403((await call(embedding, '/v1/users/u-ok/vector', { key: KEYS.admin })).status), 'admin, configured as a sha256: digest');
    assert.ok(not401or403((await call(embedding, '/v1/users/u-ok/features', { key: KEYS.admin })).status));
  });

  it('scorer: client keys from AUTH_CLIENT_KEYS and the older SCORER_API_KEYS, admin keys for experiments; the OpenAPI document stays open', async () => {
    const scorer = svc['scorer']!;
    const none = await call(scorer, '/v1/users/u-ok/recommendations?k=3');
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { field: string }).field, 'x-api-key');
    assert.equal((await call(scorer, '/v1/users/u-ok/recommendations?k=3', { key: KEYS.client })).status, 200);
    assert.equal((await call(scorer, '/v1/users/u-ok/recommendations?k=3', { bearer: KEYS.legacyClient })).status, 200);
    assert.equal((await call(scorer, '/v1/rank', { method: 'POST', key: KEYS.client, body: { userId: 'u-ok', items: ['p1', 'p2'] } })).status, 200);
    assert.equal((await call(scorer, '/v1/users/u-ok/recommendations?k=3', { key: KEYS.producer })).status, 401);
    assert.equal((await call(scorer, '/openapi.json')).status, 200);
    // the experiments API is for admin keys
    assert.equal((await call(scorer, '/v1/experiments')).status, 401);
    assert.equal((await call(scorer, '/v1/experiments', { key: KEYS.client })).status, 403, 'client keys are not admin keys');
    assert.equal((await call(scorer, '/v1/experiments/x/report', { key: KEYS.client })).status, 403);
    assert.equal((await call(scorer, '/v1/experiments', { key: KEYS.admin })).status, 200);
  });

  it('trainer: training and model listings need an admin key', async () => {
    const trainer = svc['trainer']!;
    assert.equal((await call(trainer, '/v1/train', { method: 'POST', body: {} })).status, 401);
    assert.equal((await call(trainer, '/v1/train', { method: 'POST', key: KEYS.client, body: {} })).status, 401);
    assert.equal((await call(trainer, '/v1/models')).status, 401);
    assert.equal((await call(trainer, '/v1/models', { key: KEYS.admin })).status, 200);
    const run = await call(trainer, '/v1/train', { method: 'POST', key: KEYS.admin, body: {} });
    assert.equal(run.status, 202, `POST /v1/train with the admin key: ${await run.text()}`);
  });

  it('fails closed: with AUTH_REQUIRED=true a service without the credentials its routes need does not start', async () => {
    for (const [app, variable] of [
      ['ingester', 'AUTH_PRODUCER_KEYS'],
      ['sequence-builder', 'AUTH_ADMIN_KEYS'],
      ['scorer', 'AUTH_ADMIN_KEYS'],
    ] as const) {
      const inherited = { ...process.env };
      delete inherited['REDIS_CLUSTER_NODES']; // this spec names its Redis (REDIS_URL)
      // it exits before it listens: the ports are never bound
      const child = spawn(process.execPath, [join(ROOT, 'apps', app, 'dist', 'main.js')], {
        env: { ...inherited, ...env, HTTP_PORT: '18999', METRICS_PORT: '19999', HTTP_HOST: '127.0.0.1', AUTH_PRODUCER_KEYS: '', AUTH_ADMIN_KEYS: '', AUTH_CLIENT_KEYS: KEYS.client },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.once('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      assert.equal(code, 1, `${app} exits 1\n${out}`);
      assert.match(out, new RegExp(`AUTH_REQUIRED is set and these routes have no credentials: (\\w+ \\(\\w+\\), )*\\w+ \\(${variable}\\)(, \\w+ \\(\\w+\\))*; not starting`), out);
      assert.doesNotMatch(out, /listening on/, `${app} never listened`);
    }
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { createRegistry } from '@seqrec/metrics';
import { HttpAuthGuard, authGuardFromEnv, presentedCredential, requestCredentialId, type AuthGuardOptions, type RouteRules } from './auth.guard';
import { CredentialStore } from './credentials';
import { authEnv, type AuthEnv } from './server.env';

const UNLIMITED = { ratePerSec: 0, burst: 0 };

function newTestGuard(options: Partial<AuthGuardOptions> & { keys?: { producer?: string; client?: string; admin?: string } } = {}) {
  const { keys = { producer: 'prod-key', client: 'client-key', admin: 'admin-key' }, ...rest } = options;
  const clock = { t: 0 };
  const registry = createRegistry('unit');
  const credentials = new CredentialStore({
    producer: [{ value: keys.producer ?? '', variable: 'AUTH_PRODUCER_KEYS' }],
    client: [{ value: keys.client ?? '', variable: 'AUTH_CLIENT_KEYS' }],
    admin: [{ value: keys.admin ?? '', variable: 'AUTH_ADMIN_KEYS' }],
  });
  const sut = new HttpAuthGuard({
    required: false,
    credentials,
    limits: { producer: UNLIMITED, client: UNLIMITED, admin: UNLIMITED },
    routes: { 'POST /v1/events': 'producer', '/v1/recs/*': 'client', 'GET /v1/recs/open': 'public' },
    registry,
    now: () => clock.t,
    ...rest,
  });
  return { sut, clock, registry };
}

const denied = async (registry: ReturnType<typeof createRegistry>) =>
  (await registry.getSingleMetric('seqrec_platform_auth_denied_requests_total')!.get()).values.map((v) => ({
    role: String(v.labels['role']),
    reason: String(v.labels['reason']),
    credential: String(v.labels['credential']),
    value: v.value,
  }));

describe(HttpAuthGuard.name, () => {
  it('resolves a route to its access: exact with method, exact, longest prefix, HEAD as GET, health open, anything else admin', () => {
    const rules: RouteRules = { '/a/*': 'client', 'GET /a/b/*': 'producer', '/a/b/*': 'admin', 'POST /a/x': 'producer', '/a/x': 'public' };
    const { sut } = newTestGuard({ routes: rules });
    assert.equal(sut.access('POST', '/a/x'), 'producer');
    assert.equal(sut.access('GET', '/a/x'), 'public');
    assert.equal(sut.access('GET', '/a/b/c'), 'producer', 'same prefix: the rule naming the method wins');
    assert.equal(sut.access('HEAD', '/a/b/c'), 'producer');
    assert.equal(sut.access('POST', '/a/b/c'), 'admin');
    assert.equal(sut.access('GET', '/a/c'), 'client');
    assert.equal(sut.access('GET', '/health/ready'), 'public');
    assert.equal(sut.access('DELETE', '/elsewhere'), 'admin', 'unlisted routes are admin: closed by default');
  });

  it('requires a configured role\'s credential: 401 without or with an unknown one, 403 with another role\'s, x-api-key or bearer', async () => {
    const { sut, registry } = newTestGuard();
    const post = (headers: Record<string, string>) => sut.check('POST', '/v1/events', headers);
    const none = post({});
    assert.ok(!none.ok);
    assert.equal(none.status, 401);
    assert.equal(none.body['field'], 'x-api-key');
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="seqrec"');
    const unknown = post({ 'x-api-key': 'nope' });
    assert.ok(!unknown.ok && unknown.status === 401 && unknown.body['field'] === 'credentials' && unknown.body['message'] === 'unknown API key');
    const other = post({ 'x-api-key': 'client-key' });
    assert.ok(!other.ok && other.status === 403, JSON.stringify(other));
    assert.equal(post({ 'x-api-key': 'prod-key' }).ok, true);
    assert.equal(post({ authorization: 'Bearer prod-key' }).ok, true);
    assert.equal(post({ authorization: 'bearer   prod-key ' }).ok, true);
    assert.equal(post({ authorization: 'Basic cHJvZC1rZXk=' }).ok, false);
    assert.equal(sut.check('GET', '/v1/recs/open', {}).ok, true, 'public');
    assert.equal(sut.check('GET', '/health/live', {}).ok, true, 'health is public');
    assert.deepEqual(
      (await denied(registry)).map((v) => `${v.role}/${v.reason}/${v.credential}=${v.value}`).sort(),
      ['producer/forbidden/' + new CredentialStore({ client: [{ value: 'client-key', variable: 'x' }] }).match('client-key')!.id + '=1', 'producer/invalid/=1', 'producer/missing/=2'].sort(),
    );
  });

  it('leaves a role without credentials open unless required; required refuses it and names the variable', () => {
    const open = newTestGuard({ keys: { producer: 'p' } }).sut;
    assert.equal(open.check('GET', '/v1/recs/x', {}).ok, true, 'client role has no keys: open');
    assert.equal(open.check('GET', '/v1/users/u/sequence', {}).ok, true, 'admin role has no keys: open');
    const closed = newTestGuard({ keys: { producer: 'p' }, required: true }).sut;
    const d = closed.check('GET', '/v1/recs/x', {});
    assert.ok(!d.ok && d.status === 401 && /none is configured for client routes \(AUTH_CLIENT_KEYS, AUTH_REQUIRED\)/.test(String(d.body['message'])), JSON.stringify(d));
    assert.equal(closed.check('GET', '/v1/recs/x', { 'x-api-key': 'p' }).ok, false, 'another role\'s key does not open it');
  });

  it('rate-limits per credential and role: 429 with Retry-After, other credentials unaffected', async () => {
    const { sut, clock, registry } = newTestGuard({
      keys: { producer: 'p1,p2' },
      limits: { producer: { ratePerSec: 0.5, burst: 2 }, client: UNLIMITED, admin: UNLIMITED },
    });
    const post = (key: string) => sut.check('POST', '/v1/events', { 'x-api-key': key });
    assert.equal(post('p1').ok, true);
    assert.equal(post('p1').ok, true);
    const limited = post('p1');
    assert.ok(!limited.ok && limited.status === 429, JSON.stringify(limited));
    assert.equal(limited.headers['retry-after'], '2', 'one token every 2 s');
    assert.match(String(limited.body['message']), /0\.5 requests\/s, bursts of 2/);
    assert.equal(post('p2').ok, true, 'another producer has its own bucket');
    clock.t = 1_500;
    const soon = post('p1');
    assert.ok(!soon.ok && soon.headers['retry-after'] === '1', 'rounded up to whole seconds');
    clock.t = 2_000;
    assert.equal(post('p1').ok, true);
    const rows = await denied(registry);
    assert.equal(rows.find((r) => r.reason === 'rate_limited')?.value, 2);
  });

  it('notes the routes it guards: the roles without credentials that a required service must not start with', () => {
    const { sut } = newTestGuard({ keys: { producer: 'p' }, required: true });
    sut.noteRoute('POST', '/v1/events');
    sut.noteRoute('GET', '/health/live');
    assert.deepEqual(sut.missingCredentials(), []);
    sut.noteRoute('GET', '/v1/users/:userId/sequence');
    assert.deepEqual(sut.missingCredentials(), [{ role: 'admin', variable: 'AUTH_ADMIN_KEYS' }]);
    const open = newTestGuard({ keys: { producer: 'p' } }).sut;
    open.noteRoute('GET', '/v1/users/:userId/sequence');
    open.noteRoute('POST', '/v1/events');
    assert.deepEqual(open.openRoles(), ['admin']);
  });

  it('runs in fastify before the body is read, and leaves unknown routes to the 404 handler', async () => {
    const { sut } = newTestGuard();
    const fastify = Fastify();
    sut.install(fastify);
    let handled = 0;
    fastify.post('/v1/events', async (req) => {
      handled++;
      return { got: req.body, credential: requestCredentialId(req) };
    });
    fastify.get('/v1/users/:userId/sequence', async () => ({ ok: true }));
    fastify.get('/health/live', async () => ({ status: 'ok' }));
    await fastify.ready();
    try {
      const bad = await fastify.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload: '{not json' });
      assert.equal(bad.statusCode, 401, 'refused before the body is parsed (a parse error would be 400)');
      const ok = await fastify.inject({ method: 'POST', url: '/v1/events', headers: { 'x-api-key': 'prod-key' }, payload: { a: 1 } });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json(), { got: { a: 1 }, credential: createHash('sha256').update('prod-key').digest('hex').slice(0, 8) });
      assert.equal(handled, 1);
      assert.equal((await fastify.inject({ method: 'GET', url: '/v1/users/u1/sequence' })).statusCode, 401);
      assert.equal((await fastify.inject({ method: 'GET', url: '/v1/users/u1/sequence', headers: { authorization: 'Bearer admin-key' } })).statusCode, 200);
      assert.equal((await fastify.inject({ method: 'HEAD', url: '/v1/users/u1/sequence' })).statusCode, 401);
      assert.equal((await fastify.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
      assert.equal((await fastify.inject({ method: 'GET', url: '/nowhere' })).statusCode, 404);
      assert.deepEqual(sut.missingCredentials(), []);
    } finally {
      await fastify.close();
    }
  });
});

describe(authGuardFromEnv.name, () => {
  const env = (over: Partial<AuthEnv> = {}): AuthEnv => {
    const defaults = Object.fromEntries(Object.entries(authEnv).map(([k, spec]) => [k, (spec as { default: unknown }).default])) as AuthEnv;
    return { ...defaults, ...over };
  };

  it('adds a service\'s own credential list (the scorer\'s SCORER_API_KEYS) to its role and names both variables', () => {
    const sut = authGuardFromEnv(env({ AUTH_CLIENT_KEYS: 'new', AUTH_REQUIRED: true }), {
      routes: { '/v1/*': 'client' },
      extraKeys: { client: { value: 'legacy', variable: 'SCORER_API_KEYS' } },
    });
    assert.equal(sut.check('GET', '/v1/x', { 'x-api-key': 'legacy' }).ok, true);
    assert.equal(sut.check('GET', '/v1/x', { 'x-api-key': 'new' }).ok, true);
    sut.noteRoute('GET', '/v1/train/runs/:id');
    assert.deepEqual(sut.missingCredentials(), [], '/v1/* rule covers it');
    const bare = authGuardFromEnv(env({ AUTH_REQUIRED: true }), { extraKeys: { client: { value: '', variable: 'SCORER_API_KEYS' } }, routes: { '/v1/*': 'client' } });
    bare.noteRoute('GET', '/v1/x');
    assert.deepEqual(bare.missingCredentials(), [{ role: 'client', variable: 'AUTH_CLIENT_KEYS or SCORER_API_KEYS' }]);
  });

  it('uses the default limits per role', () => {
    const sut = authGuardFromEnv(env({ AUTH_ADMIN_KEYS: 'a' }));
    let passed = 0;
    for (let i = 0; i < 100; i++) if (sut.check('POST', '/v1/train', { 'x-api-key': 'a' }).ok) passed++;
    // the burst (20), plus what 10/s refills while the loop runs (well under 100 ms)
    assert.ok(passed >= 20 && passed <= 21, `AUTH_ADMIN_BURST: ${passed} passed`);
  });
});

describe(presentedCredential.name, () => {
  it('prefers x-api-key, then a bearer token; ignores other schemes and empty values', () => {
    assert.equal(presentedCredential({ 'x-api-key': 'k', authorization: 'Bearer b' }), 'k');
    assert.equal(presentedCredential({ 'x-api-key': '', authorization: 'Bearer b' }), 'b');
    assert.equal(presentedCredential({ authorization: 'Basic Zm9v' }), undefined);
    assert.equal(presentedCredential({ authorization: 'Bearer' }), undefined);
    assert.equal(presentedCredential({ 'x-api-key': ['a', 'b'] }), undefined);
  });
});

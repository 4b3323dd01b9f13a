import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FsModelStore } from '@seqrec/model-store';
import { ITEM_DICTIONARY, SEQUENCE_STORE, createService } from '@seqrec/nest-platform';
import { CONSOLE_CSP } from '@seqrec/scoring';
import { createTestArtifact } from '@seqrec/scoring/testing';
import { SequenceApplier, type ItemDictionary, type SequenceStore } from '@seqrec/window';
import { scorerService } from './scorer.service';

const ITEMS = Array.from({ length: 30 }, (_, i) => `p${i}`);
const STATIC_DIR = join(__dirname, '..', '..', '..', 'libs', 'serving', 'scoring', 'static', 'console');
const ADMIN = 'console-spec-admin';
const CLIENT = 'console-spec-client';

describe('scorer console (in process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scorer-console-spec-'));
  const apps: NestFastifyApplication[] = [];
  let app: NestFastifyApplication;

  async function start(env: Record<string, string>): Promise<NestFastifyApplication> {
    const { app: a } = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, SCORER_MODEL_POLL_SECONDS: '0', ...env });
    apps.push(a);
    await a.init();
    await a.getHttpAdapter().getInstance().ready();
    return a;
  }

  const request = (a: NestFastifyApplication, url: string, key?: string) =>
    a.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers: key ? { 'x-api-key': key } : {} });

  before(async () => {
    await createTestArtifact(new FsModelStore(dir), { items: ITEMS, version: 'v0001' });
    app = await start({ CONSOLE_ENABLED: 'true', AUTH_ADMIN_KEYS: ADMIN, AUTH_CLIENT_KEYS: CLIENT });
  });

  after(async () => {
    for (const a of apps) await a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is off by default: every console URL answers 404', async () => {
    const off = await start({});
    for (const url of ['/console', '/console/', '/console/console.js', '/console/api/overview', '/console/api/models']) {
      assert.equal((await request(off, url, ADMIN)).statusCode, 404, url);
    }
  });

  it('a scorer under AUTH_REQUIRED needs admin keys for its experiments API and console (it does not start without)', async () => {
    const missing = async (env: Record<string, string>) => {
      const created = await createService(scorerService, { LOG_LEVEL: 'error', MODEL_STORE_DIR: dir, SCORER_MODEL_POLL_SECONDS: '0', AUTH_REQUIRED: 'true', AUTH_CLIENT_KEYS: CLIENT, ...env });
      apps.push(created.app);
      await created.app.init();
      return created.auth.missingCredentials();
    };
    assert.deepEqual(await missing({}), [{ role: 'admin', variable: 'AUTH_ADMIN_KEYS' }], 'the experiments API is admin-only');
    assert.deepEqual(await missing({ AUTH_ADMIN_KEYS: ADMIN }), []);
    assert.deepEqual(await missing({ CONSOLE_ENABLED: 'true' }), [{ role: 'admin', variable: 'AUTH_ADMIN_KEYS' }]);
    assert.deepEqual(await missing({ CONSOLE_ENABLED: 'true', AUTH_ADMIN_KEYS: ADMIN }), []);
  });

  it('serves its files with a strict Content-Security-Policy, and nothing else', async () => {
    const redirect = await request(app, '/console');
    assert.equal(redirect.statusCode, 302);
    assert.equal(redirect.headers.location, '/console/');
    const index = await request(app, '/console/');
    assert.equal(index.statusCode, 200, 'the page itself needs no key: it holds no data');
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['content-security-policy'], CONSOLE_CSP);
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    assert.equal(index.headers['x-frame-options'], 'DENY');
    // Every file the page and its modules load is served, with its type and the same policy.
    const referenced = new Set<string>();
    for (const m of index.body.matchAll(/(?:src|href)="([^"]+)"/g)) referenced.add(m[1]!);
    for (const f of readdirSync(STATIC_DIR).filter((f) => f.endsWith('.js'))) {
      for (const m of readFileSync(join(STATIC_DIR, f), 'utf8').matchAll(/from '\.\/([^']+)'/g)) referenced.add(m[1]!);
    }
    assert.ok(referenced.has('console.js') && referenced.has('console.css') && referenced.has('dom.js'), [...referenced].join());
    for (const file of referenced) {
      const res = await request(app, `/console/${file}`);
      assert.equal(res.statusCode, 200, file);
      assert.match(String(res.headers['content-type']), /^(text\/javascript|text\/css|image\/svg\+xml)/, file);
      assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, file);
    }
    for (const url of ['/console/missing.js', '/console/..%2F..%2Fpackage.json', '/console/%2E%2E%2Fscoring.module.js', '/console/.hidden', '/console/api']) {
      assert.equal((await request(app, url, ADMIN)).statusCode, 404, url);
    }
  });

  it('keeps to what its policy allows: no inline script, style or handler; values shown as text only', () => {
    const html = readFileSync(join(STATIC_DIR, 'index.html'), 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1]!, /\bsrc="/, 'a script is a file');
      assert.equal(m[2]!.trim(), '', 'no inline script');
    }
    assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=/i, 'no inline style or event handler attribute');
    for (const f of readdirSync(STATIC_DIR).filter((f) => f.endsWith('.js'))) {
      const js = readFileSync(join(STATIC_DIR, f), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|\.style\s*=|setAttribute\('style'/, `${f} builds markup from strings`);
    }
  });

  it('reads need an admin key: the process, a user\'s window, the models', async () => {
    for (const url of ['/console/api/overview', '/console/api/models', '/console/api/users/alice/window']) {
      assert.equal((await request(app, url)).statusCode, 401, url);
      assert.equal((await request(app, url, CLIENT)).statusCode, 403, `${url}: a client key may not read a user's history`);
    }
    const overview = await request(app, '/console/api/overview', ADMIN);
    assert.equal(overview.statusCode, 200, overview.body);
    assert.deepEqual(overview.json(), {
      service: 'scorer',
      served: { name: 'sasrec', version: 'v0001', createdAt: overview.json().served.createdAt },
      ingest: false,
      experiments: null,
      explanations: null,
    });
  });

  it('shows a user\'s live window; a user without one is an answer, an id too long a 400', async () => {
    const applier = new SequenceApplier(app.get<SequenceStore>(SEQUENCE_STORE), app.get<ItemDictionary>(ITEM_DICTIONARY), { capacity: 50, sessionGapMs: 30 * 60_000 });
    const t = 1_790_000_000_000;
    const events = [['p3', 'view'], ['<b>x</b>', 'click'], ['p5', 'add_to_cart']] as const;
    for (const [i, [itemId, type]] of events.entries()) {
      await applier.apply([{ partition: 0, offset: i, event: { eventId: `w${i}`, userId: 'alice', type, itemId, ts: t + i * 1000 } }]);
    }
    const res = await request(app, '/console/api/users/alice/window', ADMIN);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.found, true);
    assert.deepEqual(body.events.map((e: { itemId: string; type: string; ts: number }) => [e.itemId, e.type, e.ts]), events.map(([itemId, type], i) => [itemId, type, t + i * 1000]));
    assert.deepEqual((await request(app, '/console/api/users/nobody/window', ADMIN)).json(), { userId: 'nobody', found: false, bytes: 0, watermark: null, events: [] });
    const long = await request(app, `/console/api/users/${'u'.repeat(129)}/window`, ADMIN);
    assert.equal(long.statusCode, 400);
    assert.equal(long.json().field, 'userId');
  });

  it('lists the model store\'s versions with metrics and the served one', async () => {
    const res = await request(app, '/console/api/models', ADMIN);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.served, 'v0001');
    const sasrec = body.models.find((m: { model: string }) => m.model === 'sasrec');
    assert.deepEqual(sasrec.versions.map((v: { version: string }) => v.version), ['v0001']);
    assert.equal(typeof sasrec.versions[0].metrics, 'object');
  });
});

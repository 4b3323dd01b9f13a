/**
 * The operator console (`/console/`) in a real headless Chromium (Debian's `chromium`, installed
 * by scripts/browser.sh, driven by playwright-core; no browser download), against the real
 * processes: the embedded process as `npm start` runs it (every service, in-memory bus and state,
 * a SASRec trained on the generated events), with AUTH_REQUIRED and one operator key in every
 * role; then the scorer alone, with the console switched on and off.
 *
 * What a shop engineer does with it: loads the page (refused until a key is given), enters the
 * key and a user, sees the live window and the recommendations with model version and
 * `scoredFrom`, clicks a recommended item, and sees the answer change (the window grows by the
 * click, `lastEventTs` moves). Item ids are user input: one holding markup is shown as text. No
 * console error or page error is allowed once the key is in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { LOG_DIR, SMALL_EMBEDDED_ENV, startService, type RunningService } from '@seqrec/testing';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'console-operator-key';
const CLIENT_ONLY_KEY = 'console-client-only-key';

interface Recommendations {
  items: Array<{ itemId: string; score: number | null }>;
  model: { name: string; version: string };
  scoredFrom: string;
  sequence: { events: number; lastEventTs: number | null };
}

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Console messages of type error and uncaught page errors, as text. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return errors;
}

describe('console: the operator page in headless Chromium', () => {
  const store = mkdtempSync(join(tmpdir(), 'console-e2e-'));
  let embedded: RunningService;
  let browser: Browser;
  const api = async (path: string, init: RequestInit = {}, key: string | null = KEY) => {
    const headers = new Headers(init.headers);
    if (key) headers.set('x-api-key', key);
    if (init.body) headers.set('content-type', 'application/json');
    return fetch(`${embedded.url}${path}`, { ...init, headers });
  };

  /**
   * A 2xx answer's body, or null: while the process starts (the backfill, the first model's load)
   * the scorer may shed /v1/* with 503 (SCORER_MAX_EVENT_LOOP_DELAY_MS), which callers retry.
   */
  const answer = async <T>(path: string): Promise<T | null> => {
    const res = await api(path);
    return res.ok ? ((await res.json()) as T) : null;
  };

  before(async () => {
    [embedded, browser] = await Promise.all([
      startService(
        'embedded',
        {
          // the embedded process: in-memory bus and state, whatever the test run exports
          KAFKA_BROKERS: '',
          REDIS_URL: '',
          LOG_LEVEL: 'warn',
          MODEL_STORE_DIR: store,
          AUTH_REQUIRED: 'true',
          AUTH_ADMIN_KEYS: KEY,
          AUTH_PRODUCER_KEYS: KEY,
          AUTH_CLIENT_KEYS: `${KEY},${CLIENT_ONLY_KEY}`,
          ...SMALL_EMBEDDED_ENV,
        },
        60_000,
      ),
      // root (CI) cannot use Chromium's sandbox; a small /dev/shm must not crash the renderer
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--disable-dev-shm-usage', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])] }),
    ]);
  });

  after(async () => {
    await browser?.close();
    await embedded?.stop();
    rmSync(store, { recursive: true, force: true });
  });

  it('serves the page with a strict CSP; without a valid key the page is refused its data', async () => {
    const res = await fetch(`${embedded.url}/console/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await api('/console/api/overview', {}, null)).status, 401);
    assert.equal((await api('/console/api/overview', {}, CLIENT_ONLY_KEY)).status, 403);

    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${embedded.url}/console/`);
    await page.waitForSelector('body[data-state="refused"]');
    assert.match(await page.textContent('[data-testid=notice]') ?? '', /401 .*enter an API key/);
    await page.fill('[data-testid=key-input]', 'not-a-key');
    await page.click('[data-testid=key-save]');
    await page.waitForSelector('[data-testid=notice]:has-text("not known here")');
    assert.equal(await page.locator('[data-testid=rec-row]').count(), 0);
    assert.equal(await page.locator('[data-testid=model-version]').count(), 0);
    // the refusals themselves are the only errors: the browser logs each 401 it was answered
    assert.ok(errors.length > 0 && errors.every((e) => /status of 401/.test(e)), errors.join('\n'));
    await page.close();
  });

  it('shows a user\'s window and recommendations; a click posted from the page changes them', async () => {
    const promoted = await until('a promoted model', async () => {
      const body = await answer<{ models: Array<{ model: string; current: string | null }> }>('/v1/models');
      return body?.models.find((m) => m.model === 'sasrec')?.current ?? null;
    });
    // A shopper of our own on items the model knows (the popularity head), and one item whose
    // id is markup: the page must show it as text.
    const popular = await until('the popular items', () => answer<Recommendations>('/v1/users/nobody/recommendations?k=3'));
    const user = `shopper-${process.pid}`;
    const hostile = '<img src=x onerror="window.__xss=1">';
    const t = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const history = [...popular.items.map((i) => i.itemId), hostile].map((itemId, i) => ({ eventId: `${user}-${i}`, userId: user, type: 'view', itemId, ts: t + i * 1000 }));
    const posted = await api('/v1/events', { method: 'POST', body: JSON.stringify(history) });
    assert.equal(((await posted.json()) as { accepted: number }).accepted, 4);
    await until('the window and a trained answer', async () => {
      const r = await answer<Recommendations>(`/v1/users/${user}/recommendations?k=10`);
      return r?.sequence.events === 4 && r.model.version === promoted ? r : null;
    });

    // an experiment in force: the page lists its variants and counts, and the answer names its variant
    const started = await api('/v1/experiments/console-ab', { method: 'PUT', body: JSON.stringify({ variants: [{ name: 'a', share: 1 }, { name: 'b', share: 1 }] }) });
    assert.equal(started.status, 200, await started.clone().text());
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchErrors(page);
    await page.goto(`${embedded.url}/console/`);
    await page.waitForSelector('body[data-state="refused"]');
    errors.length = 0; // the 401 of the keyless first load (checked in the test above)
    await page.fill('[data-testid=key-input]', KEY);
    await page.click('[data-testid=key-save]');
    await page.waitForSelector('body[data-state="ready"]');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('seqrec.console.key')), KEY, 'the key is kept for the session');
    assert.match(await page.textContent('[data-testid=process]') ?? '', new RegExp(`embedded.*sasrec ${promoted}`));

    await page.fill('[data-testid=user-input]', user);
    await page.click('[data-testid=user-show]');
    await page.waitForSelector('[data-testid=rec-row]');
    assert.equal(await page.textContent('[data-testid=window-count]'), '4');
    const windowItems = await page.locator('[data-testid=window-item]').allTextContents();
    assert.deepEqual(windowItems, [hostile, ...popular.items.map((i) => i.itemId).reverse()], 'newest first, the markup as text');
    assert.equal(await page.locator('#window img').count(), 0, 'no element was made from an item id');
    assert.equal(await page.evaluate('window.__xss'), undefined);
    assert.equal(await page.textContent('[data-testid=recs-model]'), `sasrec ${promoted}`);
    assert.equal(await page.textContent('[data-testid=recs-scored-from]'), 'live_window');
    const lastBefore = await page.textContent('[data-testid=recs-last-event]');
    assert.equal(lastBefore, String(t + 3_000));
    const recsBefore = await page.locator('[data-testid=rec-item]').allTextContents();
    const fromApi = await until('the API\'s answer', () => answer<Recommendations>(`/v1/users/${encodeURIComponent(user)}/recommendations?k=10`));
    assert.deepEqual(recsBefore, fromApi.items.map((i) => i.itemId), 'the page shows the API\'s answer');

    // Click the first recommended item: the page posts the event and reads everything again.
    const clicked = recsBefore[0]!;
    await page.locator('[data-testid=rec-click]').first().click();
    await page.waitForSelector('[data-testid=change]:has-text("events")');
    assert.equal(await page.textContent('[data-testid=window-count]'), '5', 'the window grew by the click');
    const newest = page.locator('[data-testid=window-row]').first();
    assert.equal(await newest.locator('[data-testid=window-item]').textContent(), clicked);
    assert.match(await newest.textContent() ?? '', /click/);
    const lastAfter = await page.textContent('[data-testid=recs-last-event]');
    assert.notEqual(lastAfter, lastBefore, 'lastEventTs changed');
    assert.ok(Number(lastAfter) > Number(lastBefore));
    assert.match(await page.textContent('[data-testid=change]') ?? '', /window 4 → 5 events/);
    const stored = (await (await api(`/console/api/users/${encodeURIComponent(user)}/window`)).json()) as { events: Array<{ type: string; itemId: string }> };
    assert.deepEqual(stored.events.at(-1), { ...stored.events.at(-1), type: 'click', itemId: clicked }, 'the click reached the window');

    // Models: the promoted version with its metrics and its training curve, drawn.
    assert.ok((await page.locator('[data-testid=model-version]').count()) >= 1);
    assert.equal(await page.locator('[data-testid=training-curve] svg polyline').count(), 2, 'loss and validation NDCG@10');
    assert.match(await page.textContent('[data-testid=model-metrics]') ?? '', /NDCG@10/);
    // Experiments: the active one with its variants and impressions (the page's own answers among them);
    // the answer names its variant; the page's click went back with the answer's request id.
    assert.equal(await page.textContent('[data-testid=experiment-id]'), 'console-ab');
    assert.deepEqual((await page.locator('[data-testid=experiment-row] code').allTextContents()).filter((t) => t === 'a' || t === 'b'), ['a', 'b']);
    assert.match(await page.textContent('[data-testid=recs-variant]') ?? '', /^experiment console-ab: (a|b)$/);
    const report = await until('the page\'s click joined to its answer', async () => {
      const r = await answer<{ counts: Record<string, { impressions: number; clicks: number }> }>('/v1/experiments/console-ab/report');
      return r && Object.values(r.counts).some((c) => c.clicks === 1) ? r : null;
    }, 30_000);
    assert.ok(Object.values(report.counts).reduce((a, c) => a + c.impressions, 0) >= 2);
    // Explanations: the recommended items with the window events that drove them
    assert.ok((await page.locator('[data-testid=explanation-row]').count()) >= 1, 'explained items');
    assert.match(await page.textContent('[data-testid=explanations]') ?? '', /viewed|clicked|added|bought|no event/);

    await page.screenshot({ path: join(LOG_DIR, 'console.png'), fullPage: true });
    assert.deepEqual(errors, [], 'console errors, page errors or dialogs');
    await page.close();
  });

  it('is served by the scorer when switched on (no click there: it takes no events), 404 when off', async () => {
    const env = { KAFKA_BROKERS: '', REDIS_URL: '', LOG_LEVEL: 'warn', MODEL_STORE_DIR: store, AUTH_CLIENT_KEYS: KEY, AUTH_ADMIN_KEYS: KEY, SCORER_MODEL_POLL_SECONDS: '0' };
    const off = await startService('scorer', env, 60_000);
    try {
      for (const path of ['/console/', '/console/console.js', '/console/api/overview']) {
        const res = await fetch(`${off.url}${path}`, { headers: { 'x-api-key': KEY } });
        assert.equal(res.status, 404, `${path} with the console off (the scorer's default)`);
      }
    } finally {
      await off.stop();
    }
    const on = await startService('scorer', { ...env, CONSOLE_ENABLED: 'true' }, 60_000);
    try {
      const page = await browser.newPage();
      await page.goto(`${on.url}/console/`);
      await page.waitForSelector('body[data-state="refused"]');
      const errors = watchErrors(page);
      await page.fill('[data-testid=key-input]', KEY);
      await page.click('[data-testid=key-save]');
      await page.waitForSelector('body[data-state="ready"]');
      assert.match(await page.textContent('[data-testid=process]') ?? '', /scorer/);
      assert.equal(await page.isVisible('#event-form'), false, 'no event form where POST /v1/events is not served');
      await page.fill('[data-testid=user-input]', 'u000001');
      await page.click('[data-testid=user-show]');
      await page.waitForSelector('[data-testid=rec-row]');
      assert.equal(await page.textContent('[data-testid=recs-scored-from]'), 'popularity', 'a user this scorer\'s in-memory state has no window for');
      assert.equal(await page.locator('[data-testid=rec-click]').count(), 0);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await on.stop();
    }
  });
});

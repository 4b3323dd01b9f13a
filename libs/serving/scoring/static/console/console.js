// The seqrec operator console: a user's live window and recommendations, posting an event and
// seeing the answer change, the model store's versions with metrics and training curves, the
// active experiment with its variants and counts, and why each item is recommended.
// Plain ES modules served by the scorer (no build step); every value is shown as text (dom.js).
import { ApiError, api, apiKey, consoleUserPath, userPath } from './api.js';
import { lineChart } from './chart.js';
import { ago, fill, fixed, h, time } from './dom.js';

const RECENT = 'seqrec.console.recentUsers';
const HEADLINE_METRICS = [
  ['valid.full.NDCG@10', 'valid NDCG@10'],
  ['test.full.HR@10', 'test HR@10'],
  ['test.full.NDCG@10', 'test NDCG@10'],
  ['test.full.MRR', 'test MRR'],
];

const state = {
  overview: null,
  user: '',
  window: null,
  recs: null,
  /** The previous answer for the same user, to show what changed. */
  previousRecs: null,
  models: null,
  selectedVersion: null,
};

const $ = (id) => document.getElementById(id);
const errorText = (err) => (err instanceof Error ? err.message : String(err));
const errorBox = (err) => h('p', { class: 'error', 'data-testid': 'error' }, errorText(err));

function notice(message, kind = 'error') {
  const el = $('notice');
  el.hidden = !message;
  el.className = `notice ${kind}`;
  el.textContent = message ?? '';
}

// --- process, key ---------------------------------------------------------------------------

async function loadOverview() {
  try {
    state.overview = await api('/console/api/overview');
    document.body.dataset.state = 'ready';
    notice(null);
  } catch (err) {
    state.overview = null;
    document.body.dataset.state = err instanceof ApiError && (err.status === 401 || err.status === 403) ? 'refused' : 'error';
    notice(errorText(err));
  }
  renderOverview();
  renderExplanations();
  if (!state.overview) return fill('experiments', h('p', { class: 'muted' }, '–'));
  await Promise.all([loadModels(), loadExperiments()]);
}

function renderOverview() {
  const o = state.overview;
  if (!o) {
    fill('process', 'not connected');
    $('event-form').hidden = true;
    return;
  }
  fill(
    'process',
    h('span', { class: 'svc' }, o.service),
    o.served
      ? h('span', {}, 'serving ', h('code', {}, `${o.served.name} ${o.served.version}`))
      : h('span', { class: 'warn' }, 'no model loaded yet'),
  );
  $('event-form').hidden = !o.ingest;
  const note = $('ingest-note');
  note.hidden = o.ingest;
  note.textContent = o.ingest ? '' : 'This process takes no events (POST /v1/events is the ingester\'s): post clicks there, then refresh.';
}

// --- experiments, explanations ------------------------------------------------------------------

async function loadExperiments() {
  let list;
  try {
    list = await api('/v1/experiments');
  } catch (err) {
    return fill('experiments', errorBox(err));
  }
  const active = list.active;
  if (!active) {
    return fill(
      'experiments',
      h('p', { class: 'muted', 'data-testid': 'experiments-none' }, `No experiment is active${list.experiments.length ? ` (${list.experiments.length} started before)` : ''}: every answer comes from the served model. Start one with PUT /v1/experiments/{id} or npm run experiments -- start (docs/experiments.md).`),
    );
  }
  let report;
  try {
    report = await api(`/v1/experiments/${encodeURIComponent(active.config.id)}/report`);
  } catch (err) {
    return fill('experiments', errorBox(err));
  }
  const pct = (x) => (x === null ? '–' : `${fixed(100 * x, 2)}%`);
  const byName = new Map(report.report.variants.map((v) => [v.name, v]));
  const rows = [...report.variants, ...(report.counts.holdout ? [{ name: 'holdout', share: report.holdout, model: 'default' }] : [])].map((v) => {
    const r = byName.get(v.name);
    return h(
      'tr',
      { 'data-testid': 'experiment-row' },
      h('td', {}, h('code', {}, v.name), v.name === report.report.control ? ' (control)' : ''),
      h('td', { class: 'num' }, String(v.share)),
      h('td', {}, h('code', {}, v.model)),
      h('td', { class: 'num' }, String(r?.impressions ?? 0)),
      h('td', { class: 'num' }, pct(r?.ctr.mean ?? null)),
      h('td', { class: 'num' }, pct(r?.conversion.mean ?? null)),
    );
  });
  fill(
    'experiments',
    h(
      'p',
      { class: 'meta' },
      h('strong', { 'data-testid': 'experiment-id' }, active.config.id),
      ` · since ${time(active.startedAt)} · winner `,
      h('strong', { 'data-testid': 'experiment-winner' }, report.report.winner ?? 'none yet'),
      ` (${report.report.primary}, always-valid p-values: npm run experiments -- report ${active.config.id})`,
    ),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'variant'), h('th', { class: 'num' }, 'share'), h('th', {}, 'model'), h('th', { class: 'num' }, 'impressions'), h('th', { class: 'num' }, `CTR@${report.k}`), h('th', { class: 'num' }, 'conversion'))),
        h('tbody', {}, rows),
      ),
    ),
  );
}

function renderExplanations() {
  const a = state.recs?.ok;
  if (!a) return fill('explanations', h('p', { class: 'muted' }, state.overview ? 'Pick or type a user.' : '–'));
  const explained = a.items.filter((i) => i.explanation);
  if (explained.length === 0) {
    return fill('explanations', h('p', { class: 'muted' }, a.fallback ? 'A popularity answer: no event of the user drove it.' : 'No item of this answer has an explanation.'));
  }
  fill(
    'explanations',
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'item'), h('th', {}, 'why (the window events that pushed it up, by occlusion)'))),
        h(
          'tbody',
          {},
          explained.map((i) =>
            h(
              'tr',
              { 'data-testid': 'explanation-row' },
              h('td', {}, h('code', { class: 'id' }, i.itemId)),
              h('td', {}, i.explanation.reason ?? h('span', { class: 'muted' }, 'no event of the window pushed it up')),
            ),
          ),
        ),
      ),
    ),
  );
}

// --- user, window, recommendations -----------------------------------------------------------------

function recentUsers() {
  try {
    const list = JSON.parse(sessionStorage.getItem(RECENT) ?? '[]');
    return Array.isArray(list) ? list.filter((u) => typeof u === 'string') : [];
  } catch {
    return [];
  }
}

function remember(userId) {
  const list = [userId, ...recentUsers().filter((u) => u !== userId)].slice(0, 8);
  sessionStorage.setItem(RECENT, JSON.stringify(list));
  renderRecent();
}

function renderRecent() {
  const users = recentUsers();
  fill('recent-users', users.map((u) => h('option', { value: u })));
  fill(
    'recent',
    users.length ? h('span', { class: 'label' }, 'Recent') : null,
    users.map((u) => h('button', { type: 'button', class: `chip${u === state.user ? ' on' : ''}`, onclick: () => showUser(u) }, u)),
  );
}

const kValue = () => Math.min(200, Math.max(1, Number.parseInt($('k').value, 10) || 10));

async function readWindow(userId) {
  try {
    const w = await api(consoleUserPath(userId, 'window'));
    return w.found ? { ok: w } : { none: true };
  } catch (err) {
    return { error: err };
  }
}

async function readRecs(userId) {
  try {
    return { ok: await api(`${userPath(userId, 'recommendations')}?k=${kValue()}&explain=true`) };
  } catch (err) {
    return { error: err };
  }
}

async function showUser(userId) {
  userId = userId.trim();
  if (!userId) return;
  if (userId !== state.user) state.previousRecs = null;
  state.user = userId;
  $('user').value = userId;
  history.replaceState(null, '', `#user=${encodeURIComponent(userId)}`);
  remember(userId);
  $('change').hidden = true;
  const [win, recs] = await Promise.all([readWindow(userId), readRecs(userId)]);
  state.window = win;
  state.recs = recs;
  renderWindow();
  renderRecs();
  renderExplanations();
}

function renderWindow() {
  const w = state.window;
  if (!w) return;
  if (w.error) return fill('window', errorBox(w.error));
  if (w.none) return fill('window', h('p', { class: 'muted' }, 'No live window for ', h('code', {}, state.user), ': the user has no events yet (the scorer answers from popularity).'));
  const events = w.ok.events;
  const newest = events.at(-1);
  const rows = events
    .map((e, i) => ({ ...e, position: i + 1 }))
    .reverse()
    .map((e, i) =>
      h(
        'tr',
        { class: i === 0 ? 'newest' : undefined, 'data-testid': 'window-row' },
        h('td', { class: 'num' }, e.position),
        h('td', { class: 'time', title: new Date(e.ts).toISOString() }, time(e.ts)),
        h('td', {}, h('span', { class: `type t-${e.type}` }, e.type)),
        h('td', {}, e.itemId === null ? h('span', { class: 'muted' }, '(no item)') : h('code', { class: 'id', 'data-testid': 'window-item' }, e.itemId)),
        h('td', { class: 'num' }, e.session),
      ),
    );
  fill(
    'window',
    h(
      'p',
      { class: 'meta' },
      h('strong', { 'data-testid': 'window-count' }, String(events.length)),
      ' events · newest ',
      h('span', { 'data-testid': 'window-newest' }, newest ? time(newest.ts) : '–'),
      newest ? ` (${ago(newest.ts)})` : '',
      ` · ${w.ok.bytes} bytes`,
    ),
    h(
      'div',
      { class: 'scroll' },
      h('table', {}, h('thead', {}, h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, 'time'), h('th', {}, 'type'), h('th', {}, 'item'), h('th', { class: 'num' }, 'session'))), h('tbody', {}, rows)),
    ),
  );
}

/** How each item moved against the previous answer: `new`, `▲2`, `▼1` or nothing. */
function movement(itemId, rank) {
  const prev = state.previousRecs?.items;
  if (!prev) return null;
  const before = prev.findIndex((i) => i.itemId === itemId);
  if (before < 0) return h('span', { class: 'move new' }, 'new');
  if (before === rank) return null;
  return before > rank ? h('span', { class: 'move up' }, `▲${before - rank}`) : h('span', { class: 'move down' }, `▼${rank - before}`);
}

function renderRecs() {
  const r = state.recs;
  if (!r) return;
  if (r.error) return fill('recs', errorBox(r.error));
  const a = r.ok;
  const seq = a.sequence;
  const canClick = Boolean(state.overview?.ingest);
  $('recs-hint').hidden = !canClick;
  fill(
    'recs',
    h(
      'p',
      { class: 'meta' },
      h('span', { class: 'badge model', 'data-testid': 'recs-model' }, `${a.model.name} ${a.model.version}`),
      ' ',
      h('span', { class: `badge from f-${a.scoredFrom}`, 'data-testid': 'recs-scored-from' }, a.scoredFrom),
      a.fallback ? h('span', { class: 'badge warn' }, `fallback: ${a.fallback}${a.fallbackReason ? ` (${a.fallbackReason})` : ''}`) : null,
      a.experiment ? h('span', { class: 'badge', 'data-testid': 'recs-variant' }, `experiment ${a.experiment.id}: ${a.experiment.variant}`) : null,
    ),
    h(
      'p',
      { class: 'meta' },
      'window ',
      h('strong', {}, String(seq.events)),
      ' events · lastEventTs ',
      h('code', { 'data-testid': 'recs-last-event' }, seq.lastEventTs === null ? 'null' : String(seq.lastEventTs)),
      seq.ageMs === null ? '' : ` (${ago(seq.lastEventTs)})`,
      seq.unknownItems ? ` · ${seq.unknownItems} unknown to the model` : '',
    ),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'rank'), h('th', {}, 'item'), h('th', { class: 'num' }, 'score'), h('th', {}, ''), canClick ? h('th', {}, '') : null)),
        h(
          'tbody',
          {},
          a.items.map((item, i) =>
            h(
              'tr',
              { 'data-testid': 'rec-row' },
              h('td', { class: 'num' }, i + 1),
              h('td', {}, h('code', { class: 'id', 'data-testid': 'rec-item' }, item.itemId)),
              h('td', { class: 'num' }, item.score === null ? '–' : fixed(item.score, Math.abs(item.score) >= 100 ? 0 : 4)),
              h('td', {}, movement(item.itemId, i)),
              canClick ? h('td', {}, h('button', { type: 'button', class: 'small', 'data-testid': 'rec-click', onclick: () => postEvent('click', item.itemId) }, 'click')) : null,
            ),
          ),
        ),
      ),
    ),
  );
}

// --- posting an event ---------------------------------------------------------------------------

function eventId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const windowMark = (w) => (w?.ok ? JSON.stringify([w.ok.events.length, w.ok.events.at(-1)]) : 'none');

async function postEvent(type, itemId) {
  const userId = state.user;
  if (!userId || !itemId) return;
  const change = $('change');
  change.hidden = false;
  change.className = 'change';
  change.textContent = `posting ${type} on ${itemId}…`;
  const before = { window: state.window, recs: state.recs };
  const t0 = performance.now();
  try {
    // the answer's request id goes back with the event: an experiment attributes the click to it
    const requestId = before.recs?.ok?.requestId;
    const answer = await api('/v1/events', { method: 'POST', body: [{ eventId: eventId(), userId, type, itemId, ts: Date.now(), ...(requestId ? { requestId } : {}) }] });
    const result = answer.results?.[0];
    if (result && result.status !== 'accepted' && result.status !== 'duplicate') throw new Error(`the event was rejected: ${result.reason ?? result.status}`);
  } catch (err) {
    change.className = 'change error';
    change.textContent = errorText(err);
    return;
  }
  // The event goes ingester → sequence-builder → window: wait until the window shows it.
  let win = before.window;
  for (const deadline = performance.now() + 10_000; performance.now() < deadline; ) {
    win = await readWindow(userId);
    if (windowMark(win) !== windowMark(before.window)) break;
    await new Promise((r) => setTimeout(r, 150));
  }
  const recs = await readRecs(userId);
  if (state.user !== userId) return;
  state.previousRecs = before.recs?.ok ?? null;
  state.window = win;
  state.recs = recs;
  renderWindow();
  renderRecs();
  renderExplanations();
  if (state.overview) void loadExperiments();
  change.textContent = describeChange(type, itemId, before, { window: win, recs }, performance.now() - t0);
}

function describeChange(type, itemId, before, after, ms) {
  const count = (w) => (w?.ok ? w.ok.events.length : 0);
  const parts = [`${type} on ${itemId} posted, answered in ${Math.round(ms)} ms`];
  if (windowMark(after.window) === windowMark(before.window)) parts.push('the window has not shown it yet: refresh in a moment');
  else parts.push(`window ${count(before.window)} → ${count(after.window)} events`);
  const a = before.recs?.ok;
  const b = after.recs?.ok;
  if (a && b) {
    const was = new Set(a.items.map((i) => i.itemId));
    const fresh = b.items.filter((i) => !was.has(i.itemId)).length;
    parts.push(`lastEventTs ${a.sequence.lastEventTs ?? 'null'} → ${b.sequence.lastEventTs ?? 'null'}`);
    parts.push(`${fresh} of ${b.items.length} recommendations new`);
    if (a.scoredFrom !== b.scoredFrom) parts.push(`scored from ${a.scoredFrom} → ${b.scoredFrom}`);
  }
  return parts.join(' · ');
}

// --- models -----------------------------------------------------------------------------------

async function loadModels() {
  try {
    state.models = await api('/console/api/models');
  } catch (err) {
    state.models = null;
    fill('models', errorBox(err));
    return;
  }
  renderModels();
}

function renderModels() {
  const { served, models } = state.models;
  if (models.length === 0) return fill('models', h('p', { class: 'muted' }, 'The model store holds no version yet: the first training run writes one.'));
  const blocks = models.map((m) => {
    const versions = [...m.versions].reverse();
    const selected = versions.find((v) => v.version === state.selectedVersion) ?? versions.find((v) => v.version === served) ?? versions.find((v) => v.current) ?? versions[0];
    state.selectedVersion = selected?.version ?? null;
    return h(
      'div',
      { class: 'model' },
      h('h3', {}, m.model, ' ', h('span', { class: 'muted' }, `${m.versions.length} version${m.versions.length === 1 ? '' : 's'} · promoted `, h('code', {}, m.current ?? 'none'))),
      h(
        'div',
        { class: 'scroll short' },
        h(
          'table',
          { class: 'versions' },
          h('thead', {}, h('tr', {}, h('th', {}, 'version'), h('th', {}, 'created'), h('th', {}, 'data'), h('th', {}, 'backend'), HEADLINE_METRICS.map(([, label]) => h('th', { class: 'num' }, label)), h('th', { class: 'num' }, 'epochs'), h('th', {}, ''))),
          h(
            'tbody',
            {},
            versions.map((v) =>
              h(
                'tr',
                { class: `pick${v === selected ? ' selected' : ''}`, tabindex: 0, 'data-testid': 'model-version', onclick: () => selectVersion(v.version), onkeydown: (e) => e.key === 'Enter' && selectVersion(v.version) },
                h('td', {}, h('code', {}, v.version)),
                h('td', { class: 'time' }, time(Date.parse(v.createdAt))),
                h('td', { class: 'clip', title: v.data }, v.data),
                h('td', {}, v.backend),
                HEADLINE_METRICS.map(([key]) => h('td', { class: 'num' }, fixed(v.metrics[key], 4))),
                h('td', { class: 'num' }, v.trainingCurve ? v.trainingCurve.length : '–'),
                h('td', {}, v.version === served ? h('span', { class: 'badge from f-live_window' }, 'served') : null, v.current ? h('span', { class: 'badge model' }, 'promoted') : null),
              ),
            ),
          ),
        ),
      ),
      selected ? versionDetail(selected) : null,
    );
  });
  fill('models', blocks);
}

function selectVersion(version) {
  state.selectedVersion = version;
  renderModels();
}

function versionDetail(v) {
  const curve = v.trainingCurve;
  const ndcg = curve?.filter((p) => typeof p.validNdcg10 === 'number') ?? [];
  const best = ndcg.length ? ndcg.reduce((a, b) => (b.validNdcg10 > a.validNdcg10 ? b : a)).epoch : undefined;
  return h(
    'div',
    { class: 'detail', 'data-testid': 'model-detail' },
    h(
      'div',
      { class: 'curves' },
      h('h4', {}, 'Training curve of ', h('code', {}, v.version)),
      curve && curve.length
        ? h(
            'div',
            { class: 'charts', 'data-testid': 'training-curve' },
            h('figure', {}, lineChart('training loss by epoch', curve.map((p) => [p.epoch, p.loss]), { mark: best, digits: 3 }), h('figcaption', {}, 'training loss')),
            ndcg.length
              ? h('figure', {}, lineChart('validation NDCG@10 by epoch', ndcg.map((p) => [p.epoch, p.validNdcg10]), { mark: best, digits: 3, cls: 'alt' }), h('figcaption', {}, `validation NDCG@10 (best epoch ${best})`))
              : null,
          )
        : h('p', { class: 'muted' }, 'No training curve recorded for this version (a baseline, or trained before curves were kept).'),
    ),
    h('div', { class: 'metrics' }, h('h4', {}, 'Metrics'), metricsTable(v.metrics)),
  );
}

/** `<split>.<protocol>.<metric>` values as one row per metric, one column per split and protocol. */
function metricsTable(metrics) {
  const columns = [];
  const rows = new Map();
  for (const [key, value] of Object.entries(metrics)) {
    const parts = key.split('.');
    const column = parts.length >= 3 ? parts.slice(0, 2).join(' ') : '';
    const name = parts.length >= 3 ? parts.slice(2).join('.') : key;
    if (!columns.includes(column)) columns.push(column);
    if (!rows.has(name)) rows.set(name, new Map());
    rows.get(name).set(column, value);
  }
  const order = (c) => ['valid full', 'test full', 'test sampled'].indexOf(c) >>> 0;
  columns.sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  return h(
    'div',
    { class: 'scroll short' },
    h(
      'table',
      { 'data-testid': 'model-metrics' },
      h('thead', {}, h('tr', {}, h('th', {}, 'metric'), columns.map((c) => h('th', { class: 'num' }, c || 'value')))),
      h('tbody', {}, [...rows].map(([name, byColumn]) => h('tr', {}, h('td', {}, h('code', {}, name)), columns.map((c) => h('td', { class: 'num' }, fixed(byColumn.get(c), 4)))))),
    ),
  );
}

// --- wiring -----------------------------------------------------------------------------------

function init() {
  const stored = apiKey.get();
  if (stored) $('key').value = stored;
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('key').value.trim();
    if (value) apiKey.set(value);
    else apiKey.clear();
    void reload();
  });
  $('key-forget').addEventListener('click', () => {
    apiKey.clear();
    $('key').value = '';
    void reload();
  });
  $('user-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void showUser($('user').value);
  });
  $('refresh').addEventListener('click', () => {
    void loadOverview();
    if (state.user) void showUser(state.user);
  });
  $('event-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void postEvent($('event-type').value, $('event-item').value.trim());
  });
  renderRecent();
  void reload();
}

async function reload() {
  await loadOverview();
  const fromHash = /^#user=(.+)$/.exec(location.hash);
  let user = state.user;
  if (!user && fromHash) {
    try {
      user = decodeURIComponent(fromHash[1]);
    } catch {
      user = '';
    }
  }
  if (user && state.overview) await showUser(user);
}

init();

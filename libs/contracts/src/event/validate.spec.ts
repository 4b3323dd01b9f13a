import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RejectReason, normalizeEvent, parseEvent, parseTimestamp, DEFAULT_NORMALIZE_OPTIONS } from './validate';

const NOW = Date.parse('2026-11-22T10:00:00Z');
const opts = { ...DEFAULT_NORMALIZE_OPTIONS, now: () => NOW };
const base = { eventId: 'e1', userId: 'u1', type: 'view', itemId: 'i1', ts: NOW - 1000 };

describe(normalizeEvent.name, () => {
  it('accepts a valid event and keeps it as is', () => {
    const r = normalizeEvent({ ...base, sessionId: 's1' }, opts);
    assert.deepEqual(r, { ok: true, event: { ...base, sessionId: 's1' } });
  });

  it('normalises an ISO-8601 timestamp to epoch ms', () => {
    const r = normalizeEvent({ ...base, ts: '2026-11-22T09:59:59.500Z' }, opts);
    assert.ok(r.ok);
    assert.equal(r.event.ts, NOW - 500);
  });

  it('moves unknown fields into context without failing', () => {
    const r = normalizeEvent({ ...base, context: { page: 'home' }, device: 'ios', price: 9.5 }, opts);
    assert.ok(r.ok);
    assert.deepEqual(r.event.context, { page: 'home', device: 'ios', price: 9.5 });
  });

  it('requires a query for searches and keeps no itemId on them', () => {
    const bad = normalizeEvent({ eventId: 'e', userId: 'u', type: 'search', ts: NOW }, opts);
    assert.deepEqual(bad, { ok: false, rejection: { reason: RejectReason.MissingQuery, field: '/query', detail: '/query: required for type "search"' } });
    const good = normalizeEvent({ eventId: 'e', userId: 'u', type: 'search', query: 'red shoes', itemId: 'x', ts: NOW }, opts);
    assert.ok(good.ok);
    assert.equal(good.event.itemId, undefined);
    assert.deepEqual(good.event.context, { itemId: 'x' });
  });

  it('requires an itemId for non-search types', () => {
    const { itemId: _drop, ...noItem } = base;
    const r = normalizeEvent({ ...noItem, type: 'purchase' }, opts);
    assert.ok(!r.ok);
    assert.equal(r.rejection.reason, RejectReason.MissingItemId);
    assert.equal(r.rejection.field, '/itemId');
  });

  it('names the field and the allowed values for a bad type', () => {
    const r = normalizeEvent({ ...base, type: 'like' }, opts);
    assert.ok(!r.ok);
    assert.equal(r.rejection.reason, RejectReason.InvalidField);
    assert.equal(r.rejection.field, '/type');
    assert.match(r.rejection.detail, /expected one of "view", "click", "search", "add_to_cart", "purchase"/);
  });

  it('names a missing or empty id field', () => {
    const { userId: _u, ...noUser } = base;
    const missing = normalizeEvent(noUser, opts);
    assert.ok(!missing.ok);
    assert.equal(missing.rejection.field, '/userId');
    const empty = normalizeEvent({ ...base, eventId: '' }, opts);
    assert.ok(!empty.ok);
    assert.equal(empty.rejection.field, '/eventId');
  });

  it('rejects bad and out-of-range timestamps with the field', () => {
    for (const ts of ['yesterday', 1.5, -1, '2026-13-45T00:00:00Z']) {
      const r = normalizeEvent({ ...base, ts }, opts);
      assert.ok(!r.ok, `ts ${String(ts)} should be rejected`);
      assert.equal(r.rejection.field, '/ts');
      assert.equal(r.rejection.reason, RejectReason.InvalidTimestamp);
    }
    const future = normalizeEvent({ ...base, ts: NOW + 3_600_000 }, opts);
    assert.ok(!future.ok);
    assert.equal(future.rejection.reason, RejectReason.TimestampOutOfRange);
  });

  it('rejects non-objects', () => {
    for (const v of [null, 42, 'x', [base]]) {
      const r = normalizeEvent(v, opts);
      assert.ok(!r.ok);
      assert.equal(r.rejection.reason, RejectReason.NotAnObject);
    }
  });
});

describe(parseEvent.name, () => {
  it('rejects invalid JSON with the parser message', () => {
    const r = parseEvent(Buffer.from('{"eventId": '), opts);
    assert.ok(!r.ok);
    assert.equal(r.rejection.reason, RejectReason.InvalidJson);
  });

  it('rejects oversized events before parsing', () => {
    const r = parseEvent(Buffer.alloc(20_000, 32), opts);
    assert.ok(!r.ok);
    assert.equal(r.rejection.reason, RejectReason.TooLarge);
  });

  it('parses bytes', () => {
    const r = parseEvent(Buffer.from(JSON.stringify(base)), opts);
    assert.ok(r.ok);
  });
});

describe(parseTimestamp.name, () => {
  it('accepts epoch ms integers and ISO dates with offsets', () => {
    assert.equal(parseTimestamp(0), 0);
    assert.equal(parseTimestamp('2026-11-22T11:00:00+01:00'), NOW);
    assert.equal(parseTimestamp('2026-11-22'), Date.parse('2026-11-22'));
    assert.equal(parseTimestamp('1700000000000'), undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventKey, eventSubject } from './key';
import type { EventV1 } from './value';
import { RejectReason, normalizeEvent, parseAcceptedEvent, parseEvent, parseTimestamp, DEFAULT_NORMALIZE_OPTIONS, type ValidationResult } from './validate';

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
    assert.deepEqual(bad, {
      ok: false,
      rejection: { reason: RejectReason.MissingQuery, field: '/query', detail: '/query: required for type "search"' },
      ids: { eventId: 'e', userId: 'u' },
    });
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

  it('accepts an anonymous event: a sessionId without a userId', () => {
    const { userId: _u, ...noUser } = base;
    const r = normalizeEvent({ ...noUser, sessionId: 's1' }, opts);
    assert.deepEqual(r, { ok: true, event: { ...noUser, sessionId: 's1' } });
    assert.deepEqual(eventSubject((r as { event: EventV1 }).event), { kind: 'session', id: 's1' });
    assert.equal(eventKey((r as { event: EventV1 }).event), 's1');
    assert.deepEqual(eventSubject({ ...base, sessionId: 's1' }), { kind: 'user', id: 'u1' }, 'with both ids the user is the subject');
  });

  it('rejects an event with neither a userId nor a sessionId, naming both', () => {
    const { userId: _u, ...noUser } = base;
    const missing = normalizeEvent(noUser, opts);
    assert.ok(!missing.ok);
    assert.equal(missing.rejection.reason, RejectReason.MissingSubject);
    assert.equal(missing.rejection.field, '/userId');
    assert.match(missing.rejection.detail, /sessionId/);
    assert.deepEqual(missing.ids, { eventId: 'e1' });
    const bad = parseAcceptedEvent(Buffer.from(JSON.stringify(noUser)));
    assert.ok(!bad.ok);
    assert.equal(bad.rejection.reason, RejectReason.MissingSubject);
  });

  it('keys the dead letter of an anonymous event by its session id', () => {
    const r = normalizeEvent({ eventId: 'e1', sessionId: 's1', type: 'teleport', itemId: 'i', ts: NOW }, opts);
    assert.ok(!r.ok);
    assert.deepEqual(r.ids, { eventId: 'e1', sessionId: 's1' });
  });

  it('names a missing or empty id field', () => {
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
    assert.equal(parseTimestamp('2026-11-22T11:00:00+0100'), NOW);
    assert.equal(parseTimestamp('2026-11-22T05:30:00-04:30'), NOW);
    assert.equal(parseTimestamp('2026-11-22'), Date.parse('2026-11-22T00:00:00Z'));
    assert.equal(parseTimestamp('1700000000000'), undefined);
  });

  it('reads a time without a zone as UTC, whatever the process time zone', () => {
    const tz = process.env.TZ;
    try {
      for (const zone of ['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham']) {
        process.env.TZ = zone;
        assert.equal(parseTimestamp('2026-11-22T10:00:00'), NOW, zone);
        assert.equal(parseTimestamp('2026-11-22 10:00:00'), NOW, `${zone}, space separator`);
        assert.equal(parseTimestamp('2026-11-22T10:00'), NOW, `${zone}, no seconds`);
        assert.equal(parseTimestamp('2026-11-22T10:00:00.5'), NOW + 500, `${zone}, fraction`);
      }
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('keeps milliseconds, drops finer digits', () => {
    assert.equal(parseTimestamp('2026-11-22T10:00:00.123456789Z'), NOW + 123);
    assert.equal(parseTimestamp('2026-11-22T10:00:00.1Z'), NOW + 100);
  });

  it('rejects dates and times that do not exist instead of rolling them over', () => {
    for (const ts of ['2026-02-29T10:00:00Z', '2026-02-30', '2026-13-01', '2026-00-10', '2026-04-31', '2026-11-22T24:00:00Z', '2026-11-22T10:60:00Z', '2026-11-22T23:59:60Z', '2026-11-22T10:00:00+25:00', '2026-11-22T10:00:00+01:60']) {
      assert.equal(parseTimestamp(ts), undefined, ts);
    }
    assert.equal(parseTimestamp('2028-02-29T10:00:00Z'), Date.parse('2028-02-29T10:00:00Z'), 'a leap day');
    assert.equal(parseTimestamp('2000-02-29'), Date.parse('2000-02-29T00:00:00Z'), 'a leap day of a century divisible by 400');
    assert.equal(parseTimestamp('1900-02-29'), undefined, 'not a leap year');
  });
});

/** Asserts a rejection's reason and field (and optionally its detail). */
function rejected(r: ValidationResult, reason: RejectReason, field: string | undefined, detail?: RegExp): void {
  assert.ok(!r.ok, 'expected a rejection');
  assert.equal(r.rejection.reason, reason, r.rejection.detail);
  assert.equal(r.rejection.field, field, r.rejection.detail);
  if (detail) assert.match(r.rejection.detail, detail);
}

const text = (v: unknown) => JSON.stringify(v);
const nested = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

describe('limits (defaults: 16 KiB per event, context 8 levels, 64 keys, 4 KiB)', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(
      { ...DEFAULT_NORMALIZE_OPTIONS },
      { maxFutureSkewMs: 300_000, maxAgeMs: 31_536_000_000, maxEventBytes: 16_384, maxContextDepth: 8, maxContextKeys: 64, maxContextBytes: 4_096 },
    );
  });

  it('accepts a context 8 levels deep, rejects 9 (too_deep, /context) from bytes and from an object', () => {
    assert.ok(parseEvent(text({ ...base, context: nested(8) }), opts).ok, 'the context object and 7 nested in it: 8 levels');
    rejected(parseEvent(text({ ...base, context: nested(9) }), opts), RejectReason.TooDeep, '/context', /deeper than/);
    rejected(normalizeEvent({ ...base, context: nested(9) }, opts), RejectReason.TooDeep, '/context');
    // an unknown field moves into context: its value starts at level 2
    assert.ok(parseEvent(text({ ...base, extra: nested(7) }), opts).ok);
    rejected(parseEvent(text({ ...base, extra: nested(8) }), opts), RejectReason.TooDeep, '/extra');
    // arrays are levels too
    rejected(parseEvent(text({ ...base, context: { list: [[[[[[[[1]]]]]]]] } }), opts), RejectReason.TooDeep, '/context');
  });

  it('rejects a context nested thousands of levels on the bytes, before parsing, naming the field', () => {
    const deep = `{"eventId":"e1","userId":"u1","type":"view","itemId":"i1","ts":${NOW},"context":${'{"a":'.repeat(2_500)}1${'}'.repeat(2_500)}}`;
    assert.ok(deep.length < 16_384);
    rejected(parseEvent(deep, opts), RejectReason.TooDeep, '/context');
    const deepObject = JSON.parse(deep) as unknown;
    rejected(normalizeEvent(deepObject, opts), RejectReason.TooDeep, '/context');
  });

  it('rejects a top-level array nested thousands deep (too_deep, naming its first element)', () => {
    rejected(parseEvent(`${'['.repeat(8_000)}${']'.repeat(8_000)}`, opts), RejectReason.TooDeep, '/0', /nested deeper than 9 levels/);
  });

  it('counts context keys over every level, unknown fields included: 64 pass, 65 fail (too_many_keys)', () => {
    const flat = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    assert.ok(parseEvent(text({ ...base, context: flat(64) }), opts).ok);
    rejected(parseEvent(text({ ...base, context: flat(65) }), opts), RejectReason.TooManyKeys, '/context', /65 keys/);
    rejected(parseEvent(text({ ...base, context: { a: flat(63), b: 1 } }), opts), RejectReason.TooManyKeys, '/context', /65 keys/);
    rejected(parseEvent(text({ ...base, ...flat(60), context: flat(5) }), opts), RejectReason.TooManyKeys, '/context', /65 keys/);
  });

  it('bounds the context at 4 KiB as JSON (too_large, /context)', () => {
    const json = (n: number) => ({ ...base, context: { note: 'x'.repeat(n) } });
    // {"note":"…"} is 11 bytes around the string
    assert.ok(parseEvent(text(json(4_096 - 11)), opts).ok);
    rejected(parseEvent(text(json(4_096 - 10)), opts), RejectReason.TooLarge, '/context', /4097 bytes as JSON, the limit is 4096/);
    // numbers written short can grow when re-serialised: 1e20 is 21 characters as JSON
    const grows = { ...base, context: { n: Array.from({ length: 250 }, () => 1e20) } };
    assert.ok(Buffer.byteLength(text(grows).replace(/100000000000000000000/g, '1e20')) < 2_000);
    rejected(parseEvent(text(grows).replace(/100000000000000000000/g, '1e20'), opts), RejectReason.TooLarge, '/context');
  });

  it('rejects an event over 16 KiB before parsing (too_large, no field)', () => {
    const over = text({ ...base, blob: 'x'.repeat(16_384) });
    rejected(parseEvent(over, opts), RejectReason.TooLarge, undefined, new RegExp(`event is ${Buffer.byteLength(over)} bytes, the limit is 16384`));
    rejected(parseEvent(Buffer.alloc(600 * 1024, 0x20), opts), RejectReason.TooLarge, undefined, /event is 614400 bytes/);
  });
});

describe('hostile text', () => {
  it('rejects duplicate keys, naming the key, at the top level and inside context', () => {
    rejected(parseEvent('{"eventId":"e1","userId":"u1","type":"view","type":"purchase","itemId":"i","ts":1795341600000}', opts), RejectReason.DuplicateKey, '/type');
    rejected(parseEvent(`{"eventId":"e1","userId":"u1","type":"view","itemId":"i","ts":${NOW},"context":{"a":1,"b":{"c":1,"c":2}}}`, opts), RejectReason.DuplicateKey, '/context/b/c');
    // the same key written with an escape is the same key
    rejected(parseEvent(`{"eventId":"e1","userId":"u1","\\u0075serId":"u2","type":"view","itemId":"i","ts":${NOW}}`, opts), RejectReason.DuplicateKey, '/userId');
    // colons and braces inside strings are not structure
    assert.ok(parseEvent(text({ ...base, context: { q: 'a:b{c}[d]"e\\":' } }), opts).ok);
  });

  it('rejects bytes that are not UTF-8 instead of merging ids (invalid_encoding)', () => {
    const ok = Buffer.from(text({ ...base, userId: 'u-é' }));
    assert.ok(parseEvent(ok, opts).ok);
    const at = ok.indexOf(Buffer.from('é'));
    for (const bad of [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80])]) {
      const bytes = Buffer.concat([ok.subarray(0, at), bad, ok.subarray(at + 2)]);
      rejected(parseEvent(bytes, opts), RejectReason.InvalidEncoding, undefined, /not valid UTF-8/);
    }
  });

  it('rejects ids holding a lone surrogate, naming the id (invalid_encoding)', () => {
    for (const field of ['eventId', 'userId', 'sessionId', 'itemId'] as const) {
      const json = text({ ...base, [field]: 'x' }).replace(`"${field}":"x"`, `"${field}":"x\\ud800"`);
      rejected(parseEvent(json, opts), RejectReason.InvalidEncoding, `/${field}`, /lone UTF-16 surrogate/);
    }
    rejected(parseEvent(text({ eventId: 'e', userId: 'u', type: 'search', query: 'q', ts: NOW }).replace('"q"', '"\\udfff"'), opts), RejectReason.InvalidEncoding, '/query');
    // a well-formed pair is a character
    assert.ok(parseEvent(text({ ...base, userId: 'x' }).replace('"x"', '"\\ud83d\\ude00"'), opts).ok);
  });

  it('rejects a "__proto__" key instead of letting it reach an object prototype', () => {
    rejected(parseEvent(`{"eventId":"e1","userId":"u1","type":"view","itemId":"i","ts":${NOW},"__proto__":{"polluted":1}}`, opts), RejectReason.InvalidField, '/__proto__');
    rejected(parseEvent(`{"eventId":"e1","userId":"u1","type":"view","itemId":"i","ts":${NOW},"context":{"__proto__":{"polluted":1}}}`, opts), RejectReason.InvalidField, '/context');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('names the ids of a rejected payload when it has usable ones', () => {
    const r = parseEvent(text({ ...base, type: 'like' }), opts);
    assert.ok(!r.ok);
    assert.deepEqual(r.ids, { eventId: 'e1', userId: 'u1' });
    const noIds = parseEvent(text({ ...base, eventId: 7, userId: 'x'.repeat(200) }), opts);
    assert.ok(!noIds.ok);
    assert.equal(noIds.ids, undefined);
  });
});

describe(parseAcceptedEvent.name, () => {
  const good = { eventId: 'e1', userId: 'u1', type: 'view', itemId: 'i1', ts: NOW };

  it('reads an EventV1', () => {
    assert.deepEqual(parseAcceptedEvent(Buffer.from(text(good))), { ok: true, event: good });
  });

  it('answers every other record with a reason, never an exception', () => {
    const cases: Array<[Buffer | null, RejectReason, string | undefined]> = [
      [null, RejectReason.InvalidJson, undefined],
      [Buffer.from('{"eventId":'), RejectReason.InvalidJson, undefined],
      [Buffer.from('[1]'), RejectReason.NotAnObject, undefined],
      [Buffer.from(text({ ...good, type: 'teleport' })), RejectReason.InvalidField, '/type'],
      [Buffer.from(text({ ...good, ts: '2026-11-22T10:00:00Z' })), RejectReason.InvalidField, '/ts'],
      [Buffer.from(text({ ...good, ts: 1e300 })), RejectReason.TimestampOutOfRange, '/ts'],
      [Buffer.from(text({ ...good, extra: 1 })), RejectReason.InvalidField, '/extra'],
      [Buffer.from(text({ ...good, itemId: undefined })), RejectReason.MissingItemId, '/itemId'],
      [Buffer.from(text({ ...good, type: 'search', query: 'q' })), RejectReason.MissingItemId, '/itemId'],
    ];
    for (const [bytes, reason, field] of cases) rejected(parseAcceptedEvent(bytes), reason, field);
  });
});

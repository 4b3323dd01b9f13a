import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEvents, sessionsOf, type IncomingEvent } from './window';

const T0 = 1_795_000_000_000;
const ev = (offset: number, item: number, tsSec: number, partition = 0): IncomingEvent => ({ item, type: 0, ts: T0 + tsSec * 1000, partition, offset });

describe(applyEvents.name, () => {
  it('appends in order and advances the watermark', () => {
    const r = applyEvents(null, [ev(0, 1, 0), ev(1, 2, 5)], 10);
    assert.equal(r.applied, 2);
    assert.deepEqual(r.window.watermark, { partition: 0, offset: 1 });
    assert.deepEqual(r.window.events.map((e) => e.item), [1, 2]);
  });

  it('skips redelivered events at or below the watermark (idempotent)', () => {
    const first = applyEvents(null, [ev(0, 1, 0), ev(1, 2, 5)], 10);
    const again = applyEvents(first.window, [ev(0, 1, 0), ev(1, 2, 5), ev(2, 3, 9)], 10);
    assert.equal(again.stale, 2);
    assert.equal(again.applied, 1);
    assert.deepEqual(again.window.events.map((e) => e.item), [1, 2, 3]);
    const replay = applyEvents(again.window, [ev(1, 2, 5), ev(2, 3, 9)], 10);
    assert.equal(replay.applied, 0);
    assert.equal(replay.window, again.window);
  });

  it('places late events in time order', () => {
    const w = applyEvents(null, [ev(0, 1, 0), ev(1, 3, 20)], 10).window;
    const r = applyEvents(w, [ev(2, 2, 10)], 10);
    assert.deepEqual(r.window.events.map((e) => e.item), [1, 2, 3]);
    assert.deepEqual(r.window.watermark, { partition: 0, offset: 2 });
  });

  it('keeps the newest N and drops late events older than a full window', () => {
    const w = applyEvents(null, [ev(0, 1, 10), ev(1, 2, 20), ev(2, 3, 30)], 3).window;
    const r = applyEvents(w, [ev(3, 9, 5), ev(4, 4, 40)], 3);
    assert.deepEqual(r.window.events.map((e) => e.item), [2, 3, 4]);
    assert.equal(r.tooLate, 1);
    assert.equal(r.applied, 1);
  });

  it('accepts events from another partition (topic repartitioned) and moves the watermark there', () => {
    const w = applyEvents(null, [ev(100, 1, 0, 0)], 10).window;
    const r = applyEvents(w, [ev(5, 2, 1, 1)], 10);
    assert.equal(r.applied, 1);
    assert.deepEqual(r.window.watermark, { partition: 1, offset: 5 });
  });
});

describe(sessionsOf.name, () => {
  it('starts a new session after the inactivity gap', () => {
    const events = [0, 60, 3000, 3010, 9000].map((s) => ({ item: 1, type: 0, ts: T0 + s * 1000 }));
    assert.deepEqual(sessionsOf(events, 30 * 60_000), [0, 0, 1, 1, 2]);
  });
});

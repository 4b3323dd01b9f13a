import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEvents, mergeWindows, sessionsOf, type IncomingEvent } from './window';
import { MAX_EARLIER, decodeWindow, encodeWindow } from './codec';

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
    assert.deepEqual(r.window.earlier, [{ partition: 0, offset: 100 }]);
  });

  it('applies every event once while a user\'s events arrive on two partitions (partition count raised)', () => {
    // ev(offset, item, second, partition): the old partition 0 still delivers offsets 100..102
    // while the new partition 1 already has 7..8
    let w = applyEvents(null, [ev(100, 1, 0, 0), ev(101, 2, 1, 0)], 50).window;
    w = applyEvents(w, [ev(7, 3, 5, 1)], 50).window;
    // a redelivery of partition 0's batch (a builder crash after the move) and its next event
    const r = applyEvents(w, [ev(100, 1, 0, 0), ev(101, 2, 1, 0), ev(102, 4, 2, 0)], 50);
    assert.equal(r.stale, 2, 'the redelivered events of the old partition are recognised');
    assert.equal(r.applied, 1);
    assert.deepEqual(r.window.watermark, { partition: 0, offset: 102 });
    assert.deepEqual(r.window.earlier, [{ partition: 1, offset: 7 }]);
    // and partition 1's redelivery too
    const again = applyEvents(r.window, [ev(7, 3, 5, 1), ev(8, 5, 6, 1)], 50);
    assert.equal(again.stale, 1);
    assert.equal(again.applied, 1);
    assert.equal(again.window.events.length, 5);
    assert.deepEqual(again.window.events.map((e) => e.item), [1, 2, 4, 3, 5], 'in time order across partitions');
    assert.deepEqual(decodeWindow(encodeWindow(again.window)), again.window, 'round-trips through the codec (format 2)');
  });

  it('keeps at most MAX_EARLIER earlier watermarks, the most recent', () => {
    let w = applyEvents(null, [ev(1, 1, 0, 0)], 50).window;
    for (let p = 1; p <= MAX_EARLIER + 3; p++) w = applyEvents(w, [ev(1, p + 1, p, p)], 50).window;
    assert.equal(w.watermark!.partition, MAX_EARLIER + 3);
    assert.equal(w.earlier!.length, MAX_EARLIER);
    assert.deepEqual(w.earlier!.map((x) => x.partition), Array.from({ length: MAX_EARLIER }, (_, i) => MAX_EARLIER + 2 - i));
  });
});

describe(sessionsOf.name, () => {
  it('starts a new session after the inactivity gap', () => {
    const events = [0, 60, 3000, 3010, 9000].map((s) => ({ item: 1, type: 0, ts: T0 + s * 1000 }));
    assert.deepEqual(sessionsOf(events, 30 * 60_000), [0, 0, 1, 1, 2]);
  });
});

describe(mergeWindows.name, () => {
  const w = (partition: number, offset: number, items: Array<[number, number]>) => ({
    watermark: { partition, offset },
    events: items.map(([item, s]) => ({ item, type: 0, ts: T0 + s * 1000 })),
  });

  it('interleaves the session into the user by time, the session first at the same second', () => {
    const m = mergeWindows(w(0, 9, [[1, 0], [2, 10], [3, 20]]), w(3, 4, [[7, 5], [8, 10], [9, 30]]), 10);
    assert.deepEqual(m.events.map((e) => e.item), [1, 7, 8, 2, 3, 9]);
    assert.deepEqual(m.events.map((e) => e.ts - T0), [0, 5_000, 10_000, 10_000, 20_000, 30_000]);
  });

  it('keeps the newest events up to the window length', () => {
    const m = mergeWindows(w(0, 9, [[1, 0], [2, 10]]), w(1, 4, [[7, 5], [8, 15]]), 3);
    assert.deepEqual(m.events.map((e) => e.item), [7, 2, 8]);
  });

  it("unites the watermarks: the user's partition first, the later offset per partition", () => {
    const user = { ...w(0, 9, [[1, 0]]), earlier: [{ partition: 2, offset: 3 }] };
    const session = { ...w(2, 8, [[7, 5]]), earlier: [{ partition: 0, offset: 5 }] };
    const m = mergeWindows(user, session, 10);
    assert.deepEqual(m.watermark, { partition: 0, offset: 9 });
    assert.deepEqual(m.earlier, [{ partition: 2, offset: 8 }]);
    // a redelivery from either window is recognised after the merge
    const again = applyEvents(m, [ev(9, 1, 0, 0), ev(8, 7, 5, 2), ev(9, 5, 40, 2)], 10);
    assert.deepEqual([again.stale, again.applied], [2, 1]);
  });

  it('takes the session alone when the user has no window, and round-trips the codec', () => {
    const m = mergeWindows(null, w(4, 2, [[7, 5], [8, 6]]), 10);
    assert.deepEqual(m, { watermark: { partition: 4, offset: 2 }, events: w(4, 2, [[7, 5], [8, 6]]).events });
    assert.deepEqual(decodeWindow(encodeWindow(m)), m);
  });

  it('is deterministic: merging the same two windows again gives the same bytes', () => {
    const a = encodeWindow(mergeWindows(w(0, 9, [[1, 0], [2, 10]]), w(1, 4, [[7, 5]]), 10));
    const b = encodeWindow(mergeWindows(w(0, 9, [[1, 0], [2, 10]]), w(1, 4, [[7, 5]]), 10));
    assert.ok(a.equals(b));
  });

  it('keeps at most MAX_EARLIER other partitions', () => {
    const many = Array.from({ length: MAX_EARLIER + 3 }, (_, p) => ({ partition: p + 10, offset: p }));
    const m = mergeWindows({ ...w(0, 1, []), earlier: many.slice(0, 5) }, { ...w(1, 1, [[7, 5]]), earlier: many.slice(5) }, 10);
    assert.equal(m.earlier!.length, MAX_EARLIER);
  });

  it('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => mergeWindows(null, w(0, 1, []), 0), RangeError);
  });
});

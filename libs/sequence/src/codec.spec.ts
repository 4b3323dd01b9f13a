import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodecError, decodeWindow, encodeWindow, readWatermark, type SequenceWindow } from './codec';

const T0 = 1_795_000_000_000;

describe(encodeWindow.name, () => {
  it('round-trips watermark, items, types and second-resolution timestamps', () => {
    const w: SequenceWindow = {
      watermark: { partition: 3, offset: 2 ** 40 + 7 },
      events: [
        { item: 10, type: 0, ts: T0 },
        { item: 10, type: 1, ts: T0 + 4_000 },
        { item: -1, type: 2, ts: T0 + 4_000 },
        { item: 10, type: 3, ts: T0 + 90_000 },
        { item: 123_456, type: 4, ts: T0 + 86_400_000 },
      ],
    };
    assert.deepEqual(decodeWindow(encodeWindow(w)), w);
    assert.deepEqual(readWatermark(encodeWindow(w)), w.watermark);
  });

  it('encodes an empty window without a watermark', () => {
    const w: SequenceWindow = { watermark: null, events: [] };
    assert.deepEqual(decodeWindow(encodeWindow(w)), w);
    assert.equal(readWatermark(encodeWindow(w)), null);
  });

  it('spends two bytes on an event repeating the previous item within two minutes', () => {
    const one = encodeWindow({ watermark: null, events: [{ item: 5000, type: 0, ts: T0 }] });
    const two = encodeWindow({ watermark: null, events: [{ item: 5000, type: 0, ts: T0 }, { item: 5000, type: 1, ts: T0 + 30_000 }] });
    assert.equal(two.length - one.length, 2);
  });

  it('refuses events out of time order and bad watermarks', () => {
    assert.throws(() => encodeWindow({ watermark: null, events: [{ item: 1, type: 0, ts: T0 }, { item: 2, type: 0, ts: T0 - 1000 }] }), RangeError);
    assert.throws(() => encodeWindow({ watermark: { partition: 0, offset: -1 }, events: [] }), RangeError);
  });

  it('reports corrupt input as a CodecError', () => {
    const good = encodeWindow({ watermark: null, events: [{ item: 300, type: 0, ts: T0 }] });
    assert.throws(() => decodeWindow(good.subarray(0, good.length - 1)), CodecError);
    assert.throws(() => decodeWindow(Buffer.concat([good, Buffer.from([1])])), CodecError);
    const wrongVersion = Buffer.from(good);
    wrongVersion[0] = 9;
    assert.throws(() => decodeWindow(wrongVersion), CodecError);
  });
});

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

describe(`${decodeWindow.name} on corrupt bytes`, () => {
  it('throws only CodecError, whatever the bytes, and never allocates what they cannot back', () => {
    let seed = 42;
    const rand = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
    const valid = encodeWindow({
      watermark: { partition: 1, offset: 99 },
      events: Array.from({ length: 50 }, (_, i) => ({ item: i % 7 === 0 ? -1 : (i * 37) % 1_000, type: i % 5, ts: T0 + i * 61_000 })),
    });
    let decoded = 0;
    for (let round = 0; round < 20_000; round++) {
      let buf: Buffer;
      if (round % 2 === 0) {
        buf = Buffer.from(valid);
        for (let f = 1 + Math.floor(rand() * 4); f > 0; f--) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) buf = buf.subarray(0, Math.floor(rand() * buf.length));
      } else {
        buf = Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)));
        if (buf.length > 0 && rand() < 0.5) buf[0] = 1;
      }
      try {
        decodeWindow(buf);
        decoded++;
      } catch (err) {
        assert.ok(err instanceof CodecError, `${(err as Error).name}: ${(err as Error).message} for ${buf.toString('hex')}`);
      }
    }
    assert.ok(decoded > 0, 'some mutations still decode');
  });

  it('refuses an event count larger than the bytes could hold', () => {
    const huge = Buffer.from([1, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert.throws(() => decodeWindow(huge), (err: Error) => err instanceof CodecError && /cannot fit/.test(err.message));
  });
});

describe('window format 2 (earlier watermarks)', () => {
  it('round-trips earlier watermarks and keeps format 1 when there are none', () => {
    const w: SequenceWindow = {
      watermark: { partition: 4, offset: 17 },
      earlier: [{ partition: 1, offset: 2 ** 40 }, { partition: 0, offset: 3 }],
      events: [{ item: 9, type: 1, ts: T0 }],
    };
    const buf = encodeWindow(w);
    assert.equal(buf[0], 2);
    assert.deepEqual(decodeWindow(buf), w);
    assert.deepEqual(readWatermark(buf), w.watermark, 'the fixed header still holds the newest watermark');
    const plain = encodeWindow({ watermark: w.watermark, events: w.events });
    assert.equal(plain[0], 1);
    assert.equal(decodeWindow(plain).earlier, undefined);
  });

  it('rejects a corrupt list of earlier watermarks', () => {
    const buf = Buffer.from(encodeWindow({ watermark: { partition: 1, offset: 1 }, earlier: [{ partition: 0, offset: 1 }], events: [] }));
    buf[9] = 200; // k beyond MAX_EARLIER
    assert.throws(() => decodeWindow(buf), CodecError);
    assert.throws(() => encodeWindow({ watermark: null, earlier: Array.from({ length: 8 }, (_, i) => ({ partition: i, offset: 0 })), events: [] }), RangeError);
  });
});

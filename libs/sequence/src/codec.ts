/**
 * Compact binary encoding of a user's behaviour window, as stored in the state store.
 *
 * Layout (format 1):
 *
 *   byte 0       format version (1)
 *   bytes 1-2    watermark partition, uint16 BE (0xFFFF: none)
 *   bytes 3-8    watermark offset, uint48 BE: the last applied offset of that partition
 *   varint       n, number of events
 *   varint       timestamp of the oldest event, epoch seconds (only when n > 0)
 *   n times:
 *     varint     head = itemField * 8 + type, where itemField is 0 for "no item" (search),
 *                1 for "same item as the previous event that had one", index + 2 otherwise
 *     varint     seconds since the previous event (not present for the first event)
 *
 * Timestamps are kept at one-second resolution; events are oldest first. The fixed-width header
 * lets the Lua scripts read the watermark without decoding the events. A funnel on one product
 * (view, click, cart, buy) costs two bytes per repeated event.
 */

export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 9;
const NO_PARTITION = 0xffff;

export interface WindowEvent {
  /** Dense item index from the item dictionary; -1 when the event has no item (search). */
  item: number;
  /** `EVENT_TYPES` index. */
  type: number;
  /** Epoch ms, a whole number of seconds. */
  ts: number;
}

export interface Watermark {
  partition: number;
  /** Last applied offset of `partition`. */
  offset: number;
}

export interface SequenceWindow {
  watermark: Watermark | null;
  /** Oldest first. */
  events: WindowEvent[];
}

export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

export function encodeWindow(window: SequenceWindow): Buffer {
  const { watermark, events } = window;
  const out = new Writer(HEADER_BYTES + 8 + events.length * 5);
  out.byte(FORMAT_VERSION);
  if (watermark) {
    if (watermark.partition < 0 || watermark.partition >= NO_PARTITION) throw new RangeError(`partition ${watermark.partition} out of range`);
    if (!Number.isSafeInteger(watermark.offset) || watermark.offset < 0 || watermark.offset >= 2 ** 48) {
      throw new RangeError(`offset ${watermark.offset} out of range [0, 2^48)`);
    }
    out.uint16(watermark.partition);
    out.uint48(watermark.offset);
  } else {
    out.uint16(NO_PARTITION);
    out.uint48(0);
  }
  out.varint(events.length);
  let prevSec = 0;
  let prevItem = -1;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const sec = Math.floor(e.ts / 1000);
    if (i === 0) out.varint(sec);
    let field: number;
    if (e.item < 0) field = 0;
    else if (e.item === prevItem) field = 1;
    else field = e.item + 2;
    if (e.type < 0 || e.type > 7) throw new RangeError(`event type ${e.type} out of range [0, 7]`);
    out.varint(field * 8 + e.type);
    if (i > 0) {
      const dt = sec - prevSec;
      if (dt < 0) throw new RangeError(`events out of time order at position ${i}`);
      out.varint(dt);
    }
    prevSec = sec;
    if (e.item >= 0) prevItem = e.item;
  }
  return out.finish();
}

export function decodeWindow(buf: Buffer): SequenceWindow {
  if (buf.length < HEADER_BYTES + 1) throw new CodecError(`window too short: ${buf.length} bytes`);
  if (buf[0] !== FORMAT_VERSION) throw new CodecError(`unknown window format ${buf[0]}`);
  const partition = buf.readUInt16BE(1);
  const offset = buf.readUIntBE(3, 6);
  const r = new Reader(buf, HEADER_BYTES);
  const n = r.varint();
  const events: WindowEvent[] = new Array(n);
  let sec = 0;
  let prevItem = -1;
  for (let i = 0; i < n; i++) {
    if (i === 0) sec = r.varint();
    const head = r.varint();
    if (i > 0) sec += r.varint();
    const type = head % 8;
    const field = Math.floor(head / 8);
    let item: number;
    if (field === 0) item = -1;
    else if (field === 1) {
      if (prevItem < 0) throw new CodecError(`"same item" reference with no previous item at position ${i}`);
      item = prevItem;
    } else item = field - 2;
    if (item >= 0) prevItem = item;
    events[i] = { item, type, ts: sec * 1000 };
  }
  if (!r.atEnd()) throw new CodecError(`${buf.length - r.pos} trailing bytes after ${n} events`);
  return { watermark: partition === NO_PARTITION ? null : { partition, offset }, events };
}

/** Reads only the watermark from an encoded window. */
export function readWatermark(buf: Buffer): Watermark | null {
  if (buf.length < HEADER_BYTES) throw new CodecError(`window too short: ${buf.length} bytes`);
  const partition = buf.readUInt16BE(1);
  return partition === NO_PARTITION ? null : { partition, offset: buf.readUIntBE(3, 6) };
}

class Writer {
  private buf: Buffer;
  private pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  byte(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }
  uint16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  uint48(v: number): void {
    this.room(6);
    this.buf.writeUIntBE(v, this.pos, 6);
    this.pos += 6;
  }
  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint must be a non-negative safe integer, got ${v}`);
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw new CodecError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    throw new CodecError('varint longer than 8 bytes');
  }
  atEnd(): boolean {
    return this.pos === this.buf.length;
  }
}

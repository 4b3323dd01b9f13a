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
 *
 * Format 2 (written only when a user's events came from more than one partition of the events topic,
 * i.e. after its partition count changed) is format 1 with, right after the 9-byte header:
 *
 *   byte         k, the number of earlier watermarks (1..MAX_EARLIER)
 *   k times:     partition uint16 BE, offset uint48 BE: the last applied offset of each other
 *                partition this user's events came from, most recent first
 */
import { SeqrecError } from '@seqrec/contracts';

export const FORMAT_VERSION = 1;
/** Format 1 plus the watermarks of other partitions. */
export const FORMAT_VERSION_MULTI = 2;
/** Earlier watermarks a window keeps at most (older partitions are forgotten beyond this). */
export const MAX_EARLIER = 7;
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
  /** The last applied position on the partition the user's newest batch came from. */
  watermark: Watermark | null;
  /**
   * The last applied positions on other partitions this user's events came from (after the events
   * topic's partition count changed), most recent first: a redelivery from any of them is skipped.
   */
  earlier?: Watermark[];
  /** Oldest first. */
  events: WindowEvent[];
}

export class CodecError extends SeqrecError {
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = 'CodecError';
  }
}

export function encodeWindow(window: SequenceWindow): Buffer {
  const { watermark, events } = window;
  const earlier = window.earlier ?? [];
  if (earlier.length > MAX_EARLIER) throw new RangeError(`${earlier.length} earlier watermarks, at most ${MAX_EARLIER}`);
  const out = new Writer(HEADER_BYTES + 8 + earlier.length * 8 + events.length * 5);
  out.byte(earlier.length > 0 ? FORMAT_VERSION_MULTI : FORMAT_VERSION);
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
  if (earlier.length > 0) {
    out.byte(earlier.length);
    for (const w of earlier) {
      checkWatermark(w);
      out.uint16(w.partition);
      out.uint48(w.offset);
    }
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

/** Largest item index a window may hold (the dictionary hands out 32-bit indices). */
const MAX_ITEM = 0xffff_ffff;
/** Latest second a window may hold (the end of year 9999). */
const MAX_SECOND = 253_402_300_799;

/**
 * Decodes a stored window. Any input, however corrupt, either decodes or throws a {@link CodecError}
 * (never another error, never an allocation the bytes cannot back), so a caller can tell a corrupt
 * window from a bug.
 */
export function decodeWindow(buf: Buffer): SequenceWindow {
  if (buf.length < HEADER_BYTES + 1) throw new CodecError(`window too short: ${buf.length} bytes`);
  if (buf[0] !== FORMAT_VERSION && buf[0] !== FORMAT_VERSION_MULTI) throw new CodecError(`unknown window format ${buf[0]}`);
  const partition = buf.readUInt16BE(1);
  const offset = buf.readUIntBE(3, 6);
  let pos = HEADER_BYTES;
  const earlier: Watermark[] = [];
  if (buf[0] === FORMAT_VERSION_MULTI) {
    const k = buf[pos++]!;
    if (k < 1 || k > MAX_EARLIER || buf.length < pos + k * 8 + 1) throw new CodecError(`bad earlier watermarks (${k})`);
    for (let i = 0; i < k; i++, pos += 8) earlier.push({ partition: buf.readUInt16BE(pos), offset: buf.readUIntBE(pos + 2, 6) });
  }
  const r = new Reader(buf, pos);
  const n = r.varint();
  // every event takes at least one byte
  if (n > buf.length - r.pos) throw new CodecError(`${n} events cannot fit in ${buf.length - r.pos} bytes`);
  const events: WindowEvent[] = new Array(n);
  let sec = 0;
  let prevItem = -1;
  for (let i = 0; i < n; i++) {
    if (i === 0) sec = r.varint();
    const head = r.varint();
    if (i > 0) sec += r.varint();
    if (sec > MAX_SECOND) throw new CodecError(`timestamp beyond year 9999 at position ${i}`);
    const type = head % 8;
    const field = Math.floor(head / 8);
    let item: number;
    if (field === 0) item = -1;
    else if (field === 1) {
      if (prevItem < 0) throw new CodecError(`"same item" reference with no previous item at position ${i}`);
      item = prevItem;
    } else item = field - 2;
    if (item > MAX_ITEM) throw new CodecError(`item index ${item} out of range at position ${i}`);
    if (item >= 0) prevItem = item;
    events[i] = { item, type, ts: sec * 1000 };
  }
  if (!r.atEnd()) throw new CodecError(`${buf.length - r.pos} trailing bytes after ${n} events`);
  const watermark = partition === NO_PARTITION ? null : { partition, offset };
  return earlier.length > 0 ? { watermark, earlier, events } : { watermark, events };
}

function checkWatermark(w: Watermark): void {
  if (w.partition < 0 || w.partition >= NO_PARTITION) throw new RangeError(`partition ${w.partition} out of range`);
  if (!Number.isSafeInteger(w.offset) || w.offset < 0 || w.offset >= 2 ** 48) throw new RangeError(`offset ${w.offset} out of range [0, 2^48)`);
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

import type { ItemV1, StoredItem } from './value';

/**
 * The compact binary form of a stored item (the value of its field in the catalogue's Redis hash):
 *   u8 format (1) · u8 flags (1 available, 2 price, 4 image vector) · u48 updatedAt (epoch ms)
 *   · [f64 price] · 4 × (varint length + UTF-8): category, brand, title, attributes as JSON ('' when none)
 *   · [u16 dim · f32 scale · dim × int8] (the image vector quantised: value ≈ q · scale)
 * The id is the hash field, not repeated. A 1,024-dimension image vector costs 1 KB instead of
 * 4 KB of floats or ~20 KB of JSON.
 */
export const ITEM_FORMAT = 1;
const AVAILABLE = 1;
const PRICE = 2;
const IMAGE = 4;

export class ItemCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ItemCodecError';
  }
}

export function encodeItem(item: ItemV1, updatedAt: number): Buffer {
  const strings = [item.category ?? '', item.brand ?? '', item.title ?? '', item.attributes && Object.keys(item.attributes).length ? JSON.stringify(item.attributes) : ''].map((s) =>
    Buffer.from(s, 'utf8'),
  );
  const img = item.imageVector;
  let size = 8 + (item.price !== undefined ? 8 : 0) + (img ? 6 + img.length : 0);
  for (const s of strings) size += varintSize(s.length) + s.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = ITEM_FORMAT;
  out[1] = (item.available === false ? 0 : AVAILABLE) | (item.price !== undefined ? PRICE : 0) | (img ? IMAGE : 0);
  out.writeUIntBE(Math.max(0, Math.floor(updatedAt)), 2, 6);
  let p = 8;
  if (item.price !== undefined) p = out.writeDoubleLE(item.price, p);
  for (const s of strings) {
    p = writeVarint(out, p, s.length);
    p += s.copy(out, p);
  }
  if (img) {
    let max = 0;
    for (const v of img) max = Math.max(max, Math.abs(v));
    const scale = max / 127;
    p = out.writeUInt16LE(img.length, p);
    p = out.writeFloatLE(scale, p);
    for (const v of img) out.writeInt8(scale === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(v / scale))), p++);
  }
  return out;
}

export function decodeItem(itemId: string, buf: Buffer): StoredItem {
  if (buf.length < 8 || buf[0] !== ITEM_FORMAT) throw new ItemCodecError(`item ${itemId}: not an item record of format ${ITEM_FORMAT}`);
  const flags = buf[1]!;
  const item: StoredItem = { itemId, available: (flags & AVAILABLE) !== 0, updatedAt: buf.readUIntBE(2, 6) };
  let p = 8;
  if (flags & PRICE) {
    item.price = buf.readDoubleLE(p);
    p += 8;
  }
  const strings: string[] = [];
  for (let s = 0; s < 4; s++) {
    const [len, at] = readVarint(buf, p);
    if (at + len > buf.length) throw new ItemCodecError(`item ${itemId}: truncated record`);
    strings.push(buf.toString('utf8', at, at + len));
    p = at + len;
  }
  const [category, brand, title, attributes] = strings as [string, string, string, string];
  if (category) item.category = category;
  if (brand) item.brand = brand;
  if (title) item.title = title;
  if (attributes) item.attributes = JSON.parse(attributes) as NonNullable<ItemV1['attributes']>;
  if (flags & IMAGE) {
    const dim = buf.readUInt16LE(p);
    const scale = buf.readFloatLE(p + 2);
    if (p + 6 + dim > buf.length) throw new ItemCodecError(`item ${itemId}: truncated image vector`);
    item.imageVector = Array.from(new Int8Array(buf.buffer, buf.byteOffset + p + 6, dim), (q) => q * scale);
  }
  return item;
}

function varintSize(n: number): number {
  let s = 1;
  while (n >= 0x80) {
    n >>>= 7;
    s++;
  }
  return s;
}

function writeVarint(out: Buffer, p: number, n: number): number {
  while (n >= 0x80) {
    out[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[p++] = n;
  return p;
}

function readVarint(buf: Buffer, p: number): [number, number] {
  let n = 0;
  let shift = 0;
  for (;;) {
    if (p >= buf.length) throw new ItemCodecError('truncated varint');
    const b = buf[p++]!;
    n |= (b & 0x7f) << shift;
    if (b < 0x80) return [n >>> 0, p];
    shift += 7;
    if (shift > 28) throw new ItemCodecError('varint too long');
  }
}

/**
 * Stored user vectors. Binary layout (format 1), about d + 30 bytes per user:
 *
 *   byte 0        format (1)
 *   bytes 1-2     d, uint16 BE
 *   bytes 3-6     scale, float32 BE: component i = int8[i] * scale (symmetric int8 quantisation)
 *   bytes 7-14    lastTs, float64 BE: epoch ms of the newest event of the window it encodes
 *   byte 15       events in the window it encodes (capped at 255)
 *   byte 16       version length n (utf8 bytes), then n bytes: the model version that computed it
 *   d bytes       int8 components
 *
 * A vector is "current" for a scorer when its version is the served one and its lastTs and event
 * count equal the live window's; otherwise the window must be encoded again. The embedding service
 * writes it, the scorer reads it.
 */
export interface UserVector {
  version: string;
  lastTs: number;
  /** Events in the encoded window (capped at 255). */
  events: number;
  vector: Float32Array;
}

export function encodeUserVector(v: UserVector): Buffer {
  const version = Buffer.from(v.version, 'utf8');
  if (version.length > 255) throw new RangeError(`version longer than 255 bytes: ${v.version}`);
  const d = v.vector.length;
  let max = 0;
  for (let i = 0; i < d; i++) max = Math.max(max, Math.abs(v.vector[i]!));
  const scale = max > 0 ? max / 127 : 1;
  const out = Buffer.alloc(17 + version.length + d);
  out[0] = 1;
  out.writeUInt16BE(d, 1);
  out.writeFloatBE(scale, 3);
  out.writeDoubleBE(v.lastTs, 7);
  out[15] = Math.min(255, Math.max(0, v.events));
  out[16] = version.length;
  version.copy(out, 17);
  const base = 17 + version.length;
  for (let i = 0; i < d; i++) out.writeInt8(Math.max(-127, Math.min(127, Math.round(v.vector[i]! / scale))), base + i);
  return out;
}

export function decodeUserVector(buf: Buffer): UserVector {
  if (buf.length < 17 || buf[0] !== 1) throw new RangeError(`not a user vector (format ${buf[0]}, ${buf.length} bytes)`);
  const d = buf.readUInt16BE(1);
  const scale = buf.readFloatBE(3);
  const lastTs = buf.readDoubleBE(7);
  const events = buf[15]!;
  const n = buf[16]!;
  const version = buf.toString('utf8', 17, 17 + n);
  const base = 17 + n;
  if (buf.length !== base + d) throw new RangeError(`user vector: expected ${base + d} bytes, got ${buf.length}`);
  const vector = new Float32Array(d);
  for (let i = 0; i < d; i++) vector[i] = buf.readInt8(base + i) * scale;
  return { version, lastTs, events, vector };
}

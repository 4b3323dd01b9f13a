/**
 * Reads the user vectors the embedding service stores (format 1; the layout and the writer are in
 * `libs/embedding/src/user-vectors.ts`). Kept here read-only because the scoring scope may not
 * import the embedding library; both belong next to the window codec in `@seqrec/sequence`.
 */
export interface StoredUserVector {
  version: string;
  lastTs: number;
  events: number;
  vector: Float32Array;
}

export function decodeStoredUserVector(buf: Buffer): StoredUserVector | null {
  if (buf.length < 17 || buf[0] !== 1) return null;
  const d = buf.readUInt16BE(1);
  const scale = buf.readFloatBE(3);
  const n = buf[16]!;
  const base = 17 + n;
  if (buf.length !== base + d) return null;
  const vector = new Float32Array(d);
  for (let i = 0; i < d; i++) vector[i] = buf.readInt8(base + i) * scale;
  return { version: buf.toString('utf8', 17, base), lastTs: buf.readDoubleBE(7), events: buf[15]!, vector };
}

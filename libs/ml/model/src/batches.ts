/**
 * Turning histories into padded id matrices. Every model reads left-padded rows: the most recent
 * item is always in the last column, so "the user vector" is the last position for all of them
 * (and the recurrent models carry their state through the padding unchanged).
 */
import type { Rng } from '@seqrec/random';

/** A padded [rows, len] batch, row-major. */
export interface PaddedBatch {
  rows: number;
  len: number;
  ids: Int32Array;
  /** Event types aligned with `ids` (0 at padding), when types were given. */
  types: Int32Array | null;
}

/** Width to pad a batch to: the longest history, capped at maxLen, at least 1. */
export function batchWidth(histories: readonly ArrayLike<number>[], maxLen: number): number {
  let w = 1;
  for (const h of histories) if (h.length > w) w = h.length;
  return Math.min(w, maxLen);
}

/**
 * Left-pads (or truncates to the most recent `len` items) each history into a [rows, len] matrix.
 * `types`, when given, must have the same lengths as `histories`.
 */
export function leftPad(
  histories: readonly ArrayLike<number>[],
  len: number,
  types?: readonly (ArrayLike<number> | undefined)[],
): PaddedBatch {
  const rows = histories.length;
  const ids = new Int32Array(rows * len);
  const ty = types ? new Int32Array(rows * len) : null;
  for (let r = 0; r < rows; r++) {
    const h = histories[r]!;
    const n = Math.min(h.length, len);
    const src = h.length - n;
    const dst = r * len + (len - n);
    for (let i = 0; i < n; i++) ids[dst + i] = h[src + i]!;
    if (ty) {
      const t = types![r];
      if (!t || t.length !== h.length) {
        throw new RangeError(`types[${r}] has length ${t?.length ?? 'none'} but history ${r} has length ${h.length}`);
      }
      for (let i = 0; i < n; i++) ty[dst + i] = t[src + i]!;
    }
  }
  return { rows, len, ids, types: ty };
}

/** A next-item training batch: inputs and targets [rows, len], left-padded (0 = no target). */
export interface NextItemBatch extends PaddedBatch {
  targets: Int32Array;
  /** Flat indices (row * len + col) of positions with a target, in order. */
  positions: Int32Array;
}

/**
 * Next-item batch from whole sequences: input = seq[0..n-2], target = seq[1..n-1] at every
 * position, keeping the most recent `maxLen` steps. Sequences shorter than 2 contribute nothing.
 */
export function nextItemBatch(
  seqs: readonly Int32Array[],
  maxLen: number,
  types?: readonly (Uint8Array | undefined)[],
): NextItemBatch {
  const inputs = seqs.map((s) => s.subarray(0, Math.max(0, s.length - 1)));
  const len = batchWidth(inputs, maxLen);
  const inTypes = types?.map((t, i) => t?.subarray(0, inputs[i]!.length));
  const padded = leftPad(inputs, len, inTypes);
  const targets = new Int32Array(seqs.length * len);
  let count = 0;
  for (let r = 0; r < seqs.length; r++) {
    const s = seqs[r]!;
    const n = Math.min(s.length - 1, len);
    if (n <= 0) continue;
    const dst = r * len + (len - n);
    const src = s.length - n;
    for (let i = 0; i < n; i++) targets[dst + i] = s[src + i]!;
    count += n;
  }
  const positions = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i]! > 0) positions[k++] = i;
  return { ...padded, targets, positions: k === count ? positions : positions.subarray(0, k) };
}

/**
 * Batches of sequences of similar length, so that a batch is padded to little more than its own
 * longest history (attention costs grow with the square of the width, everything else linearly).
 * `order` (already shuffled) is cut into chunks of `batchSize × chunkBatches` sequences; each chunk
 * is sorted by `length` and cut into batches, and all batches are shuffled. Every index of `order`
 * is in exactly one batch; only the last chunk can leave a partial batch. Padding is masked in
 * every encoder and positions count from the newest item, so a batch's width does not change what
 * the model computes for a sequence, only what it spends on padding.
 */
export function lengthBuckets(
  order: Int32Array,
  length: (index: number) => number,
  batchSize: number,
  chunkBatches: number,
  rng: Pick<Rng, 'shuffle'>,
): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(chunkBatches) || chunkBatches < 1) throw new RangeError(`chunkBatches must be a positive integer, got ${chunkBatches}`);
  const chunk = batchSize * chunkBatches;
  const batches: Int32Array[] = [];
  for (let c = 0; c < order.length; c += chunk) {
    // ties keep the shuffled order (Array.prototype.sort is stable)
    const sorted = Int32Array.from(Array.from(order.subarray(c, c + chunk)).sort((a, b) => length(a) - length(b)));
    for (let b = 0; b < sorted.length; b += batchSize) batches.push(sorted.subarray(b, b + batchSize));
  }
  return rng.shuffle(batches);
}

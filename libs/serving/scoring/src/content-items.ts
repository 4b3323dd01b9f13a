/**
 * The catalogue items a served model has not seen, each with a vector from the model's content map
 * (issue 19 part 5): they take item indices after the model's own (`base + slot`, `base` = the
 * vocabulary's length), so the rules, the top-k search and the answers treat them like the model's
 * items. Kept current by the catalogue view: an item posted after training is scored from its
 * content by the next request, without a retrain. A deleted item's slot is reused.
 *
 * Scoring is a JS scan of the (few) content vectors, merged into the model's own top-k: with no
 * such item (the common case right after a retrain) nothing is added to a request's path.
 *
 * Scores are calibrated ({@link ContentMap.calibrate}): a ridge prediction is shrunk toward the mean
 * item, so its raw dot product with a user vector is smaller than a trained item's of the same
 * relevance and new items would never reach a full-catalogue top 10. Each user's content scores are
 * standardised to the model's own items' score distribution for that user (an affine, increasing map
 * fitted with the content map) and mixed with the raw score by `boost` (SCORER_NEW_ITEM_BOOST: 0
 * raw, 1 fully standardised), so new items compete with known ones on one scale. A map written
 * before the calibration existed scores raw dot products.
 */
import { dot } from '@seqrec/artifacts';
import { TopK, type ContentFeature, type ContentMap, type Ranked } from '@seqrec/model';

const IDENTITY = { offset: 0, scale: 1 };

/** SCORER_NEW_ITEM_BOOST's default: the weight of the standardised content score (bench:coldstart, docs/coldstart.md). */
export const DEFAULT_NEW_ITEM_BOOST = 0.75;

export class ContentItems {
  private ids: Array<string | null> = [];
  private readonly slots = new Map<string, number>();
  private vectors: Float32Array;
  private free: number[] = [];
  private lastVector = new Float32Array(0);
  private lastScale = IDENTITY;

  constructor(
    readonly map: ContentMap,
    /** The model's vocabulary length: the first index of a content item. */
    readonly base: number,
    /** The weight of the standardised score against the raw dot product, in [0, 1]. */
    readonly boost = DEFAULT_NEW_ITEM_BOOST,
  ) {
    if (!(boost >= 0 && boost <= 1)) throw new RangeError(`ContentItems: boost must be in [0, 1], got ${boost}`);
    this.vectors = new Float32Array(16 * map.dim);
  }

  /** Items with a content vector. */
  get size(): number {
    return this.slots.size;
  }

  /** One past the largest index in use (`base` + slots ever used): the size the catalogue tables need. */
  get end(): number {
    return this.base + this.ids.length;
  }

  /** The index of a content item (0 when it has none). */
  indexOf(itemId: string): number {
    const s = this.slots.get(itemId);
    return s === undefined ? 0 : this.base + s;
  }

  /** The item id of a content index (undefined for a free or foreign index). */
  idOf(index: number): string | undefined {
    return this.ids[index - this.base] ?? undefined;
  }

  /** The vector of a content index (a view; do not keep it across changes). */
  vectorOf(index: number): Float32Array {
    const d = this.map.dim;
    const s = index - this.base;
    return this.vectors.subarray(s * d, (s + 1) * d);
  }

  /**
   * Sets the item's vector from its content features; returns its index, or 0 when the map knows
   * none of its features (it is then removed: no vector is better than a meaningless one).
   */
  put(itemId: string, features: readonly ContentFeature[]): number {
    const v = this.map.vector(features);
    if (!v) {
      this.remove(itemId);
      return 0;
    }
    let s = this.slots.get(itemId);
    if (s === undefined) {
      s = this.free.pop() ?? this.ids.length;
      if (s === this.ids.length) this.ids.push(null);
      this.ids[s] = itemId;
      this.slots.set(itemId, s);
      const d = this.map.dim;
      if ((s + 1) * d > this.vectors.length) {
        const grown = new Float32Array(this.vectors.length * 2);
        grown.set(this.vectors);
        this.vectors = grown;
      }
    }
    this.vectors.set(v, s * this.map.dim);
    return this.base + s;
  }

  /** Removes the item; returns the index it had (0: it had none). */
  remove(itemId: string): number {
    const s = this.slots.get(itemId);
    if (s === undefined) return 0;
    this.slots.delete(itemId);
    this.ids[s] = null;
    this.free.push(s);
    return this.base + s;
  }

  /** Calibrated scores of a user vector with the content items, the best `k` that pass `accept`. */
  topK(vector: Float32Array, k: number, accept?: (item: number) => boolean): Ranked {
    const top = new TopK(Math.min(k, this.slots.size));
    const d = this.map.dim;
    const vs = this.vectors;
    const ids = this.ids;
    const { offset, scale } = this.scaleFor(vector);
    for (let s = 0; s < ids.length; s++) {
      if (ids[s] === null) continue;
      const score = offset + scale * dot(vector, vs, s * d, d);
      if (!top.wouldTake(score)) continue;
      const ix = this.base + s;
      if (accept && !accept(ix)) continue;
      top.offer(ix, score);
    }
    return top.result();
  }

  /** Cosine of a vector with the content items, the best `k`, `except` (an index) left out. */
  similarTo(vector: Float32Array, k: number, except = 0): Ranked {
    const top = new TopK(Math.min(k, this.slots.size));
    const d = this.map.dim;
    const vs = this.vectors;
    let qq = 0;
    for (let j = 0; j < d; j++) qq += vector[j]! * vector[j]!;
    for (let s = 0; s < this.ids.length; s++) {
      const ix = this.base + s;
      if (this.ids[s] === null || ix === except) continue;
      let dot = 0;
      let vv = 0;
      for (let j = 0, o = s * d; j < d; j++) {
        dot += vector[j]! * vs[o + j]!;
        vv += vs[o + j]! * vs[o + j]!;
      }
      top.offer(ix, dot / (Math.sqrt(qq * vv) + 1e-12));
    }
    return top.result();
  }

  /** The calibrated score of a user vector with a content item. */
  score(vector: Float32Array, index: number): number {
    const d = this.map.dim;
    const { offset, scale } = this.scaleFor(vector);
    return offset + scale * dot(vector, this.vectors, (index - this.base) * d, d);
  }

  /**
   * The calibration of a user vector: O(dim²), so the last one is kept (a re-rank scores its
   * candidates one by one with the same vector), compared by value (O(dim)) in case a caller reuses
   * the array.
   */
  private scaleFor(vector: Float32Array): { offset: number; scale: number } {
    const last = this.lastVector;
    if (last.length === vector.length) {
      let same = true;
      for (let j = 0; j < last.length && same; j++) same = last[j] === vector[j];
      if (same) return this.lastScale;
    }
    this.lastScale = this.map.calibrate(vector, this.boost) ?? IDENTITY;
    this.lastVector = Float32Array.from(vector);
    return this.lastScale;
  }
}

/** Two rankings merged into the best `width`, by score (ties: the smaller index). */
export function mergeRanked(a: Ranked, b: Ranked, width: number): Ranked {
  if (b.items.length === 0) return a;
  const top = new TopK(Math.min(width, a.items.length + b.items.length));
  for (let i = 0; i < a.items.length; i++) top.offer(a.items[i]!, a.scores[i]!);
  for (let i = 0; i < b.items.length; i++) top.offer(b.items[i]!, b.scores[i]!);
  return top.result();
}

/**
 * The one top-k of seqrec (docs/topk.md): a bounded heap that keeps the k best (item, score) pairs
 * of a stream, and the business rules applied inside a ranked search (a filter and a cap per
 * group). Every scoring path takes its top k through here: the exact int8 scan (ExactTopK), the
 * approximate index, the graph models, the TF matMul path and the popularity ranking.
 *
 * Order: higher score first, ties by the smaller item index, so every path and the brute-force
 * reference of the tests agree on one total order.
 */

/** Items best first and their scores. */
export interface Ranked {
  items: Int32Array;
  scores: Float32Array;
}

/** The k best of the items offered (score desc, index asc): a min-heap on "worse". */
export class TopK {
  /** Items offered so far (for metrics: the exact scan's rescored rows). */
  offered = 0;
  private readonly ids: Int32Array;
  private readonly vals: Float64Array;
  private n = 0;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`TopK: k must be a non-negative integer, got ${k}`);
    this.ids = new Int32Array(k);
    this.vals = new Float64Array(k);
  }

  /** Items kept (at most k). */
  get size(): number {
    return this.n;
  }

  /** Whether `offer(_, score)` could keep the score (an equal score may win on its index). */
  wouldTake(score: number): boolean {
    return this.n < this.k || score >= this.vals[0]!;
  }

  offer(item: number, score: number): void {
    this.offered++;
    const k = this.k;
    if (k === 0) return;
    const ids = this.ids;
    const vals = this.vals;
    if (this.n < k) {
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(item, score, ids[p]!, vals[p]!)) break;
        ids[i] = ids[p]!;
        vals[i] = vals[p]!;
        i = p;
      }
      ids[i] = item;
      vals[i] = score;
      return;
    }
    if (!worse(ids[0]!, vals[0]!, item, score)) return;
    siftDown(ids, vals, this.n, item, score);
  }

  /**
   * The items kept, best first (ties: the smaller index first). Pops a copy of the heap, worst
   * first, into the answer from its end: no comparator closure, no index array (this runs once
   * or more per request).
   */
  result(): Ranked {
    const n = this.n;
    const ids = this.ids.slice(0, n);
    const vals = this.vals.slice(0, n);
    const items = new Int32Array(n);
    const scores = new Float32Array(n);
    for (let size = n; size > 0; size--) {
      items[size - 1] = ids[0]!;
      scores[size - 1] = vals[0]!;
      // the heap's last element takes the root of the size − 1 that remain
      siftDown(ids, vals, size - 1, ids[size - 1]!, vals[size - 1]!);
    }
    return { items, scores };
  }
}

/** Puts (item, score) at the root of the min-heap of `size` (worst at the root) and sifts it down. */
function siftDown(ids: Int32Array, vals: Float64Array, size: number, item: number, score: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    const r = l + 1;
    const c = r < size && worse(ids[r]!, vals[r]!, ids[l]!, vals[l]!) ? r : l;
    if (!worse(ids[c]!, vals[c]!, item, score)) break;
    ids[i] = ids[c]!;
    vals[i] = vals[c]!;
    i = c;
  }
  ids[i] = item;
  vals[i] = score;
}

/** a ranks below b: a lower score, or the same score and a larger index. */
function worse(ia: number, sa: number, ib: number, sb: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

/**
 * Business rules over item indices, compiled per request (the scorer's catalogue view builds
 * them): which items may be returned, and at most `maxPerGroup` items of one group (category).
 */
export interface ItemRules {
  /** Whether the item may be returned; absent: every item may. */
  accept?: (item: number) => boolean;
  /** The item's group; a negative group is never capped. Needed with `maxPerGroup`. */
  groupOf?: (item: number) => number;
  /** At most this many items of one group in the answer (0 or absent: no cap). */
  maxPerGroup?: number;
}

/** True when the rules restrict nothing. */
export function noRules(rules: ItemRules | null | undefined): boolean {
  return !rules || (!rules.accept && !capped(rules));
}

function capped(rules: ItemRules): boolean {
  return (rules.maxPerGroup ?? 0) > 0 && rules.groupOf !== undefined;
}

/**
 * A ranked search over the whole catalogue: the best `width` items, best first, in the one total
 * order. It may apply `accept` itself (the exact scan, the index, the graph, popularity: the rules
 * then cost nothing on the rows they rule out) or not (the TF matMul path): {@link selectTopK}
 * applies it again either way.
 */
export type RankedSearch = (width: number, accept: ((item: number) => boolean) | undefined) => Ranked;
export type AsyncRankedSearch = (width: number, accept: ((item: number) => boolean) | undefined) => Promise<Ranked>;

/**
 * The best k items that pass the rules, from a ranked search over at most `eligible` items.
 *
 * The greedy walk down the ranking (take an item when it passes `accept` and its group is under
 * the cap) is the best answer under a cap per group: the capped sets form a partition matroid,
 * where greedy by weight is optimal. Its first k picks depend only on the ranking's prefix up to
 * the k-th pick, so the search is asked for a prefix (`width`, k at first; 4k with a cap) and
 * widened fourfold until the walk found k items or the ranking is exhausted: never fewer than k
 * when k items pass.
 */
export function selectTopK(k: number, rules: ItemRules | null | undefined, eligible: number, search: RankedSearch): Ranked {
  const plan = new Widening(k, rules, eligible);
  for (;;) {
    const out = plan.take(search(plan.width, rules?.accept));
    if (out) return out;
  }
}

/** {@link selectTopK} for a search that answers later (a micro-batched TF pass). */
export async function selectTopKAsync(k: number, rules: ItemRules | null | undefined, eligible: number, search: AsyncRankedSearch): Promise<Ranked> {
  const plan = new Widening(k, rules, eligible);
  for (;;) {
    const out = plan.take(await search(plan.width, rules?.accept));
    if (out) return out;
  }
}

/** The widening loop of {@link selectTopK}, shared by the sync and async forms. */
class Widening {
  width: number;

  constructor(
    private readonly k: number,
    private readonly rules: ItemRules | null | undefined,
    private readonly eligible: number,
  ) {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`selectTopK: k must be a non-negative integer, got ${k}`);
    this.width = Math.min(Math.max(0, eligible), rules && capped(rules) ? 4 * k : k);
  }

  /** The answer from this prefix of the ranking, or null when the search must be widened. */
  take(ranked: Ranked): Ranked | null {
    const out = greedy(ranked, this.k, this.rules);
    const exhausted = ranked.items.length < this.width || this.width >= this.eligible;
    if (out.items.length >= this.k || exhausted) return out;
    this.width = Math.min(this.eligible, this.width * 4);
    return null;
  }
}

/** The greedy walk: items of `ranked` in order that pass `accept` and their group's cap, up to k. */
function greedy(ranked: Ranked, k: number, rules: ItemRules | null | undefined): Ranked {
  const accept = rules?.accept;
  const cap = rules && capped(rules) ? rules.maxPerGroup! : 0;
  if (!accept && cap === 0 && ranked.items.length <= k) return ranked;
  const counts = cap > 0 ? new Map<number, number>() : null;
  const items: number[] = [];
  const scores: number[] = [];
  for (let q = 0; q < ranked.items.length && items.length < k; q++) {
    const it = ranked.items[q]!;
    if (accept && !accept(it)) continue;
    if (counts) {
      const g = rules!.groupOf!(it);
      if (g >= 0) {
        const c = counts.get(g) ?? 0;
        if (c >= cap) continue;
        counts.set(g, c + 1);
      }
    }
    items.push(it);
    scores.push(ranked.scores[q]!);
  }
  return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
}

/**
 * The answers of a batched TF `topk` (values and indices of `rows` × `width`, best first per row;
 * tfjs breaks ties by the smaller index too): per row, its first k items that are neither the
 * padding index 0 nor in the row's `skip`. The caller asks TF for `width` = k + |skip| + 1.
 */
export function fromBatchedTopK(
  vals: ArrayLike<number>,
  idx: ArrayLike<number>,
  rows: number,
  width: number,
  k: number,
  skip: (row: number) => ReadonlySet<number> | null,
): Ranked[] {
  const out: Ranked[] = new Array(rows);
  for (let j = 0; j < rows; j++) {
    const s = skip(j);
    const items: number[] = [];
    const scores: number[] = [];
    for (let q = j * width; q < (j + 1) * width && items.length < k; q++) {
      const it = idx[q]!;
      if (it === 0 || s?.has(it)) continue;
      items.push(it);
      scores.push(vals[q]!);
    }
    out[j] = { items: Int32Array.from(items), scores: Float32Array.from(scores) };
  }
  return out;
}

/**
 * A sparse weighted item → item graph in CSR form: the neighbours of item i are
 * `neighbours[offsets[i] .. offsets[i + 1])` with `weights` at the same positions, strongest first.
 */
export interface ItemGraph {
  numItems: number;
  /** Length numItems + 2 (index 0 is padding and has no neighbours). */
  offsets: Int32Array;
  neighbours: Int32Array;
  weights: Float32Array;
}

/**
 * Builds an `ItemGraph` keeping at most `k` strongest neighbours per item. `accumulate(i, acc,
 * touched)` adds item i's raw weights into the dense `acc` (length numItems + 1, all zero on
 * entry), appends every item it makes non-zero to `touched` and returns how many it appended.
 * `finalize(i, j, raw)` turns a raw weight into the stored one (e.g. cosine normalisation); only
 * positive results are kept. Memory is O(numItems · k); no dense numItems² matrix is built.
 */
export function buildTopKGraph(
  numItems: number,
  k: number,
  accumulate: (i: number, acc: Float64Array, touched: Int32Array) => number,
  finalize: (i: number, j: number, raw: number) => number,
): ItemGraph {
  const acc = new Float64Array(numItems + 1);
  const touched = new Int32Array(numItems + 1);
  const heapIdx = new Int32Array(k);
  const heapW = new Float64Array(k);
  let nb = new Int32Array(Math.max(16, numItems * Math.min(k, 16)));
  let wt = new Float32Array(nb.length);
  const offsets = new Int32Array(numItems + 2);
  let total = 0;
  for (let i = 1; i <= numItems; i++) {
    offsets[i] = total;
    const m = accumulate(i, acc, touched);
    let size = 0;
    for (let t = 0; t < m; t++) {
      const j = touched[t]!;
      const raw = acc[j]!;
      acc[j] = 0;
      const w = finalize(i, j, raw);
      if (!(w > 0)) continue;
      if (size < k) {
        heapPush(heapIdx, heapW, size++, j, w);
      } else if (w > heapW[0]! || (w === heapW[0]! && j < heapIdx[0]!)) {
        heapReplaceTop(heapIdx, heapW, size, j, w);
      }
    }
    if (total + size > nb.length) {
      const cap = Math.max(nb.length * 2, total + size);
      const nb2 = new Int32Array(cap);
      nb2.set(nb.subarray(0, total));
      const wt2 = new Float32Array(cap);
      wt2.set(wt.subarray(0, total));
      nb = nb2;
      wt = wt2;
    }
    // Pop the min-heap from the back so the strongest neighbour comes first.
    for (let s = size; s > 0; s--) {
      nb[total + s - 1] = heapIdx[0]!;
      wt[total + s - 1] = heapW[0]!;
      heapReplaceTop(heapIdx, heapW, s - 1, heapIdx[s - 1]!, heapW[s - 1]!);
    }
    total += size;
  }
  offsets[numItems + 1] = total;
  return { numItems, offsets, neighbours: nb.slice(0, total), weights: wt.slice(0, total) };
}

/** Weaker entry = smaller weight, ties: larger item index (so the kept set is deterministic). */
export function weaker(wa: number, ia: number, wb: number, ib: number): boolean {
  return wa < wb || (wa === wb && ia > ib);
}

/** Adds (j, v) to a min-heap of `size` entries (weakest at the root, {@link weaker} order). */
export function heapPush(idx: Int32Array, w: Float32Array | Float64Array, size: number, j: number, v: number): void {
  let p = size;
  while (p > 0) {
    const parent = (p - 1) >> 1;
    if (!weaker(v, j, w[parent]!, idx[parent]!)) break;
    idx[p] = idx[parent]!;
    w[p] = w[parent]!;
    p = parent;
  }
  idx[p] = j;
  w[p] = v;
}

/** Replaces the root of a heap of `size` entries with (j, v) and sifts it down. With size 0, nothing. */
export function heapReplaceTop(idx: Int32Array, w: Float32Array | Float64Array, size: number, j: number, v: number): void {
  if (size === 0) return;
  let p = 0;
  for (;;) {
    const l = 2 * p + 1;
    if (l >= size) break;
    const r = l + 1;
    const c = r < size && weaker(w[r]!, idx[r]!, w[l]!, idx[l]!) ? r : l;
    if (!weaker(w[c]!, idx[c]!, v, j)) break;
    idx[p] = idx[c]!;
    w[p] = w[c]!;
    p = c;
  }
  idx[p] = j;
  w[p] = v;
}

/** Item → occurrences index: for item i, the (sequence, position) pairs where it occurs, in sequence order. */
export interface OccurrenceIndex {
  offsets: Int32Array;
  seq: Int32Array;
  pos: Int32Array;
}

export function occurrenceIndex(train: readonly Int32Array[], numItems: number): OccurrenceIndex {
  const offsets = new Int32Array(numItems + 2);
  let total = 0;
  for (const s of train) {
    total += s.length;
    for (let t = 0; t < s.length; t++) offsets[s[t]! + 1]!++;
  }
  for (let i = 1; i <= numItems + 1; i++) offsets[i]! += offsets[i - 1]!;
  const fill = offsets.slice(0, numItems + 1);
  const seq = new Int32Array(total);
  const pos = new Int32Array(total);
  for (let u = 0; u < train.length; u++) {
    const s = train[u]!;
    for (let t = 0; t < s.length; t++) {
      const k = fill[s[t]!]!++;
      seq[k] = u;
      pos[k] = t;
    }
  }
  return { offsets, seq, pos };
}

/**
 * How a history's items weigh into a graph's scores, i.e. how a fitted neighbourhood model scores:
 * - `cooc`: each of the last `lastN` positions, the l-th last weighing `recencyDecay^(l-1)`;
 * - `itemknn`: each distinct item once, at its latest position, weighing `decay^(distance from the end)`;
 * - `pop`: no history item counts (popularity alone).
 * The score of item j is Σ weight(i) · w(i → j) over the contributing items i, plus the popularity
 * prior. The evaluated recommenders and the scorer's serving copy both score through this.
 */
export type GraphRule = { kind: 'cooc'; lastN: number; recencyDecay: number } | { kind: 'itemknn'; decay: number } | { kind: 'pop' };

/** A fitted neighbourhood model as the scorer serves it: the graph, how histories use it, and the prior under it. */
export interface GraphModel {
  graph: ItemGraph;
  rule: GraphRule;
  /** Added to every item's score (length numItems + 1): a tie-breaking popularity prior, or pop's counts. */
  prior: Float32Array;
}

/** A graph with no edges (popularity alone scores). */
export function emptyGraph(numItems: number): ItemGraph {
  return { numItems, offsets: new Int32Array(numItems + 2), neighbours: new Int32Array(0), weights: new Float32Array(0) };
}

/** Reusable "seen in this history" marks over item indices (no allocation per history). */
export class ItemStamps {
  private stamp: Int32Array;
  private id = 0;

  constructor(numItems: number) {
    this.stamp = new Int32Array(numItems + 1);
  }

  /** Starts a new history: every item is unmarked again. */
  next(): void {
    if (++this.id === 0x7fffffff) {
      this.stamp.fill(0);
      this.id = 1;
    }
  }

  /** Marks `i`; false when it was already marked in this history. */
  mark(i: number): boolean {
    if (this.stamp[i] === this.id) return false;
    this.stamp[i] = this.id;
    return true;
  }
}

/** Calls `visit(item, weight)` for every history entry that contributes under `rule`, newest first. */
export function forEachHistoryWeight(rule: GraphRule, history: ArrayLike<number>, stamps: ItemStamps, visit: (item: number, weight: number) => void): void {
  if (rule.kind === 'cooc') {
    const stop = Math.max(0, history.length - rule.lastN);
    let w = 1;
    for (let t = history.length - 1; t >= stop; t--, w *= rule.recencyDecay) visit(history[t]!, w);
  } else if (rule.kind === 'itemknn') {
    stamps.next();
    let w = 1;
    for (let t = history.length - 1; t >= 0; t--, w *= rule.decay) {
      const i = history[t]!;
      if (stamps.mark(i)) visit(i, w); // an item counts once, at its latest position
    }
  }
}

/** Dense scores of every item for each history ([histories.length, numItems + 1], row-major): prior + graph. */
export function denseGraphScores(g: ItemGraph, rule: GraphRule, prior: Float32Array, histories: readonly Int32Array[], stamps: ItemStamps): Float32Array {
  const width = g.numItems + 1;
  const out = new Float32Array(histories.length * width);
  const { offsets, neighbours, weights } = g;
  for (let b = 0; b < histories.length; b++) {
    const o = b * width;
    out.set(prior, o);
    forEachHistoryWeight(rule, histories[b]!, stamps, (i, w) => {
      for (let p = offsets[i]!; p < offsets[i + 1]!; p++) out[o + neighbours[p]!]! += w * weights[p]!;
    });
  }
  return out;
}
